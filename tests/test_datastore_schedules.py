"""Datastore schedules: created with the SDK's validation, fired by the real workspace service
when files directly under `path_on_datastore` are added or modified (one run per burst, the
changed file assigned to the DataPath parameter), never by files in sub-folders."""
from __future__ import annotations

import json
import time

import pytest

from runner.sdk import DataPath, DataPathComputeBinding, Pipeline, PipelineParameter, PythonScriptStep
from runner.sdk.schedule import Schedule
from runner.sdk.schedule_recurrence import ScheduleRecurrence
from runner.service_control import ensure_service, running_service, stop_service
from runner.step_runtime.exceptions import UserErrorException
from store.runs import get_pipeline_run
from store.schedules import get_schedule
from store.service_record import log_path
from tests.conftest import amlocal

READER = """
    import json, os, sys
    from azureml.core import Run
    path = sys.argv[2]
    Run.get_context().log("seen", json.dumps({"name": os.path.basename(path),
                                              "text": open(path).read()}))
"""


def _published(workspace, write, tmp_path):
    """A published pipeline whose step reads the file its DataPath parameter `input_path` names."""
    write("steps/read.py", READER)
    ds = workspace.get_default_datastore()
    write("data/in/old.txt", "there before the schedule")
    ds.upload(str(tmp_path / "data"), show_progress=False)
    param = PipelineParameter("input_path", default_value=DataPath(ds, "in/old.txt"))
    binding = (param, DataPathComputeBinding(mode="mount"))
    step = PythonScriptStep("read.py", name="read", arguments=["--path", binding], inputs=[binding],
                            source_directory=str(tmp_path / "steps"))
    return Pipeline(workspace, [step]).publish("on-data"), ds


def _runs(schedule: Schedule) -> list:
    return list(reversed(schedule.get_pipeline_runs()))  # oldest first


def _wait_for_runs(schedule: Schedule, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(schedule)
        if len(runs) >= count:
            return runs
        time.sleep(0.2)
    raise AssertionError(f"{len(_runs(schedule))} runs in {timeout} s, expected {count}")


def _wait_until_watched(layout, schedule: Schedule, times: int = 1, timeout: float = 30) -> None:
    """Until the service's log says it watches the schedule's folder (the `times`-th time)."""
    deadline = time.monotonic() + timeout
    needle = f"schedule {schedule.name} ({schedule.id}) watches "
    while time.monotonic() < deadline:
        path = log_path(layout)
        if path.exists() and path.read_text(errors="replace").count(needle) >= times:
            return
        time.sleep(0.1)
    raise AssertionError(f"the service never watched {schedule.name}")


def _seen(run) -> dict:
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step,) = run.find_step_run("read")
    return json.loads(step.get_metrics()["seen"])


def _quiet() -> None:
    """Longer than a burst's quiet period and a check: a run it started would be recorded."""
    time.sleep(4.0)


def test_a_datastore_schedule_fires_once_per_burst_with_the_changed_path(workspace, write, tmp_path):
    published, ds = _published(workspace, write, tmp_path)
    layout = workspace._local.layout
    folder = layout.datastore_dir("workspaceblobstore") / "in"
    schedule = Schedule.create(workspace, "on-data", published.id, "ds-sched", datastore=ds,
                               path_on_datastore="in/", polling_interval=5,
                               data_path_parameter_name="input_path",
                               continue_on_step_failure=None)
    assert running_service(layout) is not None  # create started it
    assert (schedule.datastore_name, schedule.path_on_datastore, schedule.polling_interval,
            schedule.data_path_parameter_name, schedule.recurrence, schedule.next_fire_time) == \
        ("workspaceblobstore", "in/", 5, "input_path", None, None)
    assert type(schedule.polling_interval) is int
    _wait_until_watched(layout, schedule)
    _quiet()
    assert _runs(schedule) == []  # old.txt was there before: it never fires
    for name in ("b.csv", "a.csv", "c.csv"):  # one burst
        (folder / name).write_text(f"rows of {name}")
        time.sleep(0.1)
    (first,) = _wait_for_runs(schedule, 1)
    record = get_pipeline_run(workspace._local.conn, first.id)
    assert record.parameters == {"input_path": {"datastore": "workspaceblobstore",
                                                "path": "in/a.csv"}}
    assert record.tags == {"amlocal.schedule_id": schedule.id}
    assert record.published_pipeline_id == published.id
    assert record.experiment_name == "ds-sched"
    assert _seen(first) == {"name": "a.csv", "text": "rows of a.csv"}
    assert get_schedule(workspace._local.conn, schedule.id).last_run_id == first.id

    (folder / "sub").mkdir()
    (folder / "sub" / "d.csv").write_text("in a sub-folder")  # sub-folders are not watched
    (folder / "a.csv").write_text("rows of a.csv")  # the same content again: no change
    (folder / "c.csv").unlink()  # a deletion is no change either
    _quiet()
    assert [r.id for r in _runs(schedule)] == [first.id]

    (folder / "b.csv").write_text("new rows of b.csv")
    first_two = _wait_for_runs(schedule, 2)
    assert get_pipeline_run(workspace._local.conn, first_two[1].id).parameters == {
        "input_path": {"datastore": "workspaceblobstore", "path": "in/b.csv"}}
    assert _seen(first_two[1]) == {"name": "b.csv", "text": "new rows of b.csv"}

    stop_service(layout)  # a change while the service is down fires once when it is back
    (folder / "e.csv").write_text("while down")
    (folder / "f.csv").write_text("while down too")
    ensure_service(layout)
    runs = _wait_for_runs(schedule, 3)
    assert get_pipeline_run(workspace._local.conn, runs[2].id).parameters == {
        "input_path": {"datastore": "workspaceblobstore", "path": "in/e.csv"}}
    _seen(runs[2])
    _quiet()
    assert len(_runs(schedule)) == 3

    schedule.disable()
    (folder / "g.csv").write_text("while disabled")
    _quiet()
    assert len(_runs(schedule)) == 3
    schedule.enable()  # what changed while disabled does not fire it
    assert Schedule.get(workspace, schedule.id).status == "Active"
    _wait_until_watched(layout, schedule, times=3)
    _quiet()
    assert len(_runs(schedule)) == 3


def test_a_datastore_schedule_without_a_parameter_runs_with_the_defaults(workspace, write,
                                                                        tmp_path):
    published, ds = _published(workspace, write, tmp_path)
    layout = workspace._local.layout
    schedule = Schedule.create(workspace, "root", published.id, "ds-root", datastore=ds)
    assert (schedule.path_on_datastore, schedule.polling_interval,
            schedule.data_path_parameter_name) == (None, 5, None)
    _wait_until_watched(layout, schedule)
    (layout.datastore_dir("workspaceblobstore") / "top.txt").write_text("at the root")
    (run,) = _wait_for_runs(schedule, 1)
    assert get_pipeline_run(workspace._local.conn, run.id).parameters == {  # the default
        "input_path": {"datastore": "workspaceblobstore", "path": "in/old.txt"}}
    assert _seen(run) == {"name": "old.txt", "text": "there before the schedule"}
    listed = amlocal("schedules", cwd=tmp_path, env={"AMLOCAL_HOME": str(layout.root)})
    assert listed.returncode == 0, listed.stderr
    row = listed.stdout.splitlines()[1].split()
    assert row[:3] == [schedule.id, "root", "Active"]
    assert row[3:5] == ["on", "workspaceblobstore/"] and row[-3:] == ["on", "change", run.id]


def test_datastore_schedules_are_checked_as_the_sdk_checks_them(workspace, write, tmp_path):
    published, ds = _published(workspace, write, tmp_path)
    daily = ScheduleRecurrence("Day", 1)
    with pytest.raises(ValueError, match="^Can not specify both a Recurrence and a Datastore$"):
        Schedule.create(workspace, "x", published.id, "e", recurrence=daily, datastore=ds)
    with pytest.raises(ValueError, match="^Data Path parameter name can only be specified for "
                                         "Datastore schedules.$"):
        Schedule.create(workspace, "x", published.id, "e", recurrence=daily,
                        data_path_parameter_name="input_path")
    with pytest.raises(ValueError, match="^Path on datastore parameter can only be specified for "
                                         "Datastore schedules.$"):
        Schedule.create(workspace, "x", published.id, "e", recurrence=daily, path_on_datastore="in")
    from runner.sdk.datastore import Datastore
    share = Datastore.register_azure_file_share(workspace, "share", "share", "account",
                                                account_key="k")
    with pytest.raises(ValueError, match="^Datastore must be of type AzureBlobDatastore$"):
        Schedule.create(workspace, "x", published.id, "e", datastore=share)
    with pytest.raises(ValueError, match="^The polling interval must be greater"):
        Schedule.create(workspace, "x", published.id, "e", datastore=ds, polling_interval=-1)
    with pytest.raises(UserErrorException, match="path_on_datastore '../up' leaves the datastore"):
        Schedule.create(workspace, "x", published.id, "e", datastore=ds, path_on_datastore="../up")
    with pytest.raises(UserErrorException, match="data_path_parameter_name 'nope' is no parameter "
                                                 r"of published pipeline .* \(its parameters: "
                                                 r"input_path\)"):
        Schedule.create(workspace, "x", published.id, "e", datastore=ds,
                        data_path_parameter_name="nope")
    with pytest.raises(UserErrorException, match="datastore must be a Datastore"):
        Schedule.create(workspace, "x", published.id, "e", datastore="workspaceblobstore")
    assert Schedule.list(workspace, active_only=False) == []


def test_a_version_8_database_gets_the_datastore_schedule_columns(tmp_path):
    """A workspace from before datastore schedules keeps its recurrence schedules, which read
    as schedules without a trigger, and can store datastore ones."""
    import sqlite3

    from store import database
    from store.schedules import create_schedule
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE schedule DROP COLUMN datastore_trigger_json")
    raw.execute("ALTER TABLE schedule DROP COLUMN watched_files_json")
    raw.execute("ALTER TABLE pipeline_run DROP COLUMN forced_json")  # also added in schema 9
    raw.execute("INSERT INTO schedule (id, name, pipeline_id, experiment_name, parameters_json, "
                "recurrence_json, status, created_at) VALUES ('s', 'nightly', 'p', 'e', '{}', "
                "'{\"frequency\": \"Day\", \"interval\": 1}', 'Active', 0)")
    raw.execute("PRAGMA user_version=8")
    raw.commit()
    raw.close()
    conn = database.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION == 9
    kept = get_schedule(conn, "s")
    assert (kept.name, dict(kept.recurrence), kept.datastore_trigger, dict(kept.watched_files)) == \
        ("nightly", {"frequency": "Day", "interval": 1}, None, {})
    trigger = {"datastore": "workspaceblobstore", "path_on_datastore": "in/",
               "polling_interval": 5, "data_path_parameter_name": None}
    made = get_schedule(conn, create_schedule(conn, "on-data", None, "p", None, "e", {}, None,
                                              None, datastore_trigger=trigger,
                                              watched_files={"a.csv": [1, 2, "h"]}))
    assert (made.recurrence, dict(made.datastore_trigger), dict(made.watched_files)) == \
        (None, trigger, {"a.csv": [1, 2, "h"]})
