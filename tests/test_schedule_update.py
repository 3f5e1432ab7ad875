"""`Schedule.update` (the SDK's checks; None keeps a field) and `Schedule.load_yaml` (the SDK's
YAML shape), with a datastore schedule moved to another folder by the real service."""
from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from runner.sdk import Pipeline, PipelineParameter, PythonScriptStep
from runner.service import datastore_watch
from runner.sdk.datastore import AzureBlobDatastore
from runner.sdk.schedule import Schedule
from runner.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone
from runner.step_runtime.exceptions import UserErrorException
from store import datastore_changes
from store.runs import get_pipeline_run, list_pipeline_runs
from store.schedules import create_schedule, get_schedule, update_schedule
from tests.test_datastore_schedules import _published as _published_with_datapath
from tests.test_datastore_schedules import _quiet, _runs, _wait_for_runs, _wait_until_watched

LATER = dt.datetime(2030, 1, 7, 0, 0)


def _published(workspace, write, tmp_path):
    write("steps/s.py", "print('hello')\n")
    n = PipelineParameter("n", default_value=1)
    step = PythonScriptStep("s.py", name="s", arguments=["--n", n],
                            source_directory=str(tmp_path / "steps"))
    return Pipeline(workspace, [step]).publish("nightly")


def test_update_changes_what_is_given_and_keeps_the_rest(workspace, write, tmp_path):
    published = _published(workspace, write, tmp_path)
    schedule = Schedule.create(workspace, "daily", published.id, "e", description="first",
                               recurrence=ScheduleRecurrence("Day", 1, start_time=LATER),
                               pipeline_parameters={"n": 2}, continue_on_step_failure=False)
    schedule.update(description="second", pipeline_parameters={"n": 3})
    got = Schedule.get(workspace, schedule.id)
    assert (got.name, got.description, got.status, got.continue_on_step_failure) == \
        ("daily", "second", "Active", False)
    assert dict(get_schedule(workspace._local.conn, schedule.id).parameters) == {"n": 3}
    assert got.next_fire_time == dt.datetime(2030, 1, 7, tzinfo=dt.timezone.utc)
    schedule.update(name="hourly", continue_on_step_failure=True,
                    recurrence=ScheduleRecurrence("Hour", 2, start_time=LATER,
                                                  time_zone=TimeZone.UTC))
    assert (schedule.name, schedule.description, schedule.continue_on_step_failure) == \
        ("hourly", "second", True)
    assert (schedule.recurrence.frequency, schedule.recurrence.interval) == ("Hour", 2)
    got = Schedule.get(workspace, schedule.id)
    assert (got.name, got.recurrence.frequency, got.recurrence.interval) == ("hourly", "Hour", 2)
    assert dict(get_schedule(workspace._local.conn, schedule.id).parameters) == {"n": 3}
    schedule.update(status="Disabled")
    assert (schedule.status, Schedule.get(workspace, schedule.id).status) == ("Disabled", "Disabled")
    schedule.update(status="Active")
    assert Schedule.get(workspace, schedule.id).status == "Active"


def test_update_refuses_what_the_sdk_refuses(workspace, write, tmp_path):
    published = _published(workspace, write, tmp_path)
    ds = workspace.get_default_datastore()
    timed = Schedule.create(workspace, "timed", published.id, "e",
                            recurrence=ScheduleRecurrence("Day", 1, start_time=LATER))
    on_data = Schedule.create(workspace, "on-data", published.id, "e", datastore=ds)
    with pytest.raises(ValueError, match="^Status must be either Active or Disabled$"):
        timed.update(status="Paused")
    with pytest.raises(ValueError, match="^Can not specify a Datastore for a Recurrence schedule.$"):
        timed.update(datastore=ds)
    with pytest.raises(ValueError, match="^Can not specify a recurrence for a Datastore schedule.$"):
        on_data.update(recurrence=ScheduleRecurrence("Day", 1))
    with pytest.raises(ValueError, match="^Can only specify hours if frequency is Week or Day.$"):
        timed.update(recurrence=ScheduleRecurrence("Minute", 1, hours=[3]))
    with pytest.raises(ValueError, match="^The polling interval must be greater"):
        on_data.update(polling_interval=-1)
    with pytest.raises(UserErrorException, match="data_path_parameter_name 'n' is a int parameter"):
        on_data.update(data_path_parameter_name="n")
    assert (Schedule.get(workspace, timed.id).recurrence.frequency,
            Schedule.get(workspace, on_data.id).data_path_parameter_name) == ("Day", None)
    on_data.update(polling_interval=15)
    got = Schedule.get(workspace, on_data.id)
    assert (got.polling_interval, got.datastore_name, got.path_on_datastore) == \
        (15, "workspaceblobstore", None)
    assert type(got.polling_interval) is int


def test_a_datastore_schedule_moved_to_another_folder_watches_that_one(workspace, write, tmp_path):
    published, ds = _published_with_datapath(workspace, write, tmp_path)
    layout = workspace._local.layout
    root = layout.datastore_dir("workspaceblobstore")
    (root / "other").mkdir()
    (root / "other" / "there.txt").write_text("there before the move")
    schedule = Schedule.create(workspace, "moving", published.id, "e", datastore=ds,
                               path_on_datastore="in", data_path_parameter_name="input_path")
    _wait_until_watched(layout, schedule)
    schedule.update(path_on_datastore="other/", description="moved")
    assert (schedule.path_on_datastore, schedule.description) == ("other/", "moved")
    assert sorted(get_schedule(workspace._local.conn, schedule.id).watched_files) == ["there.txt"]
    _wait_until_watched(layout, schedule, times=2)  # the service watches the new folder
    (root / "in" / "ignored.csv").write_text("the old folder")
    _quiet()
    assert _runs(schedule) == []
    (root / "other" / "new.csv").write_text("the new folder")
    (run,) = _wait_for_runs(schedule, 1)
    assert get_pipeline_run(workspace._local.conn, run.id).parameters == {
        "input_path": {"datastore": "workspaceblobstore", "path": "other/new.csv"}}
    run.wait_for_completion(show_output=False)
    time.sleep(0.1)


def test_a_look_at_the_old_folder_while_the_schedule_moves_fires_nothing(workspace, monkeypatch):
    """The race a move used to lose: a watcher read the old folder, the update moved the
    schedule, and the old folder's files were compared with (and recorded as) the new one's,
    firing a run for `other/old.txt` and then one for the new folder's file already there."""
    conn, layout = workspace._local.conn, workspace._local.layout
    root = layout.datastore_dir("workspaceblobstore")
    for folder, name in (("in", "old.txt"), ("other", "there.txt")):
        (root / folder).mkdir(parents=True)
        (root / folder / name).write_text("there before the schedule")
    there = datastore_changes.folder_files(root / "other")
    moved = {"datastore": "workspaceblobstore", "path_on_datastore": "other/"}
    schedule_id = create_schedule(conn, "moving", None, None, None, "e", {}, None, None,
                                  datastore_trigger={"datastore": "workspaceblobstore",
                                                     "path_on_datastore": "in"},
                                  watched_files={})  # as if old.txt came after the create
    reading = datastore_changes.folder_files

    def read_while_moved(folder, previous=None):
        files = reading(folder, previous)
        update_schedule(conn, schedule_id, datastore_trigger=moved, watched_files=there)
        return files
    monkeypatch.setattr(datastore_watch, "folder_files", read_while_moved)
    assert asyncio.run(datastore_watch.check(workspace._local, schedule_id)) is None
    record = get_schedule(conn, schedule_id)
    assert (dict(record.datastore_trigger), dict(record.watched_files)) == (moved, there)
    stale = get_schedule(conn, schedule_id)._replace(datastore_trigger={
        "datastore": "workspaceblobstore", "path_on_datastore": "in"})
    # what was read from the old folder is not recorded as the new one's (a move after the check)
    assert datastore_watch.settle(workspace._local, stale, {"old.txt": [1, 1, "x"]}) is None
    assert dict(get_schedule(conn, schedule_id).watched_files) == there
    assert list_pipeline_runs(conn) == []


RECURRENCE_YAML = """\
Schedule:
    description: "Test create with recurrence"
    recurrence:
        frequency: Week # Can be "Minute", "Hour", "Day", "Week", or "Month".
        interval: 1 # how often fires
        start_time: 2019-06-07T10:50:00
        time_zone: UTC
        hours:
        - 1
        minutes:
        - 0
        time_of_day: null
        week_days:
        - Friday
    pipeline_parameters: {'a':1}
    wait_for_provisioning: True
    wait_timeout: 3600
    datastore_name: ~
    polling_interval: ~
    data_path_parameter_name: ~
    continue_on_step_failure: None
    path_on_datastore: ~
"""

DATASTORE_YAML = """\
Schedule:
    description: "Test create with datastore"
    recurrence: ~
    pipeline_parameters: {}
    wait_for_provisioning: True
    wait_timeout: 3600
    datastore_name: workspaceblobstore
    polling_interval: 5
    data_path_parameter_name: "input_path"
    continue_on_step_failure: None
    path_on_datastore: "in/"
"""


def test_load_yaml_reads_the_sdks_recurrence_shape(workspace, tmp_path):
    (tmp_path / "recurrence.yaml").write_text(RECURRENCE_YAML)
    info = Schedule.load_yaml(workspace, str(tmp_path / "recurrence.yaml"))
    assert sorted(info) == ["continue_on_step_failure", "data_path_parameter_name",
                            "datastore_name", "description", "path_on_datastore",
                            "pipeline_parameters", "polling_interval", "recurrence",
                            "wait_for_provisioning", "wait_timeout"]
    assert {k: v for k, v in info.items() if k != "recurrence"} == {
        "description": "Test create with recurrence", "pipeline_parameters": {"a": 1},
        "wait_for_provisioning": True, "wait_timeout": 3600, "datastore_name": None,
        "polling_interval": None, "data_path_parameter_name": None,
        "continue_on_step_failure": None, "path_on_datastore": None}
    recurrence = info["recurrence"]
    assert isinstance(recurrence, ScheduleRecurrence)
    assert (recurrence.frequency, recurrence.interval, recurrence.start_time, recurrence.time_zone,
            recurrence.hours, recurrence.minutes, recurrence.week_days) == \
        ("Week", 1, "2019-06-07T10:50:00", TimeZone.UTC, [1], [0], ["Friday"])


def test_load_yaml_gives_a_datastore_that_create_takes(workspace, write, tmp_path):
    published, _ = _published_with_datapath(workspace, write, tmp_path)
    (tmp_path / "datastore.yaml").write_text(DATASTORE_YAML)
    info = Schedule.load_yaml(workspace, str(tmp_path / "datastore.yaml"))
    assert isinstance(info["datastore_name"], AzureBlobDatastore)
    assert (info["datastore_name"].name, info["recurrence"], info["polling_interval"]) == \
        ("workspaceblobstore", None, 5)
    schedule = Schedule.create(workspace, "from-yaml", published.id, "e",
                               description=info["description"],
                               datastore=info["datastore_name"],
                               polling_interval=info["polling_interval"],
                               data_path_parameter_name=info["data_path_parameter_name"],
                               continue_on_step_failure=info["continue_on_step_failure"],
                               path_on_datastore=info["path_on_datastore"])
    got = Schedule.get(workspace, schedule.id)
    assert (got.description, got.datastore_name, got.path_on_datastore, got.polling_interval,
            got.data_path_parameter_name, got.continue_on_step_failure) == \
        ("Test create with datastore", "workspaceblobstore", "in/", 5, "input_path", None)


def test_load_yaml_says_what_is_wrong_with_a_file(workspace, tmp_path):
    (tmp_path / "bad.yaml").write_text("Other:\n  description: x\n")
    with pytest.raises(ValueError, match='^Schedule Yaml file must have a "Schedule:" section$'):
        Schedule.load_yaml(workspace, str(tmp_path / "bad.yaml"))
    with pytest.raises(UserErrorException, match="cannot read the schedule YAML .*missing.yaml"):
        Schedule.load_yaml(workspace, str(tmp_path / "missing.yaml"))
    (tmp_path / "broken.yaml").write_text("Schedule: [unclosed\n")
    with pytest.raises(UserErrorException, match="broken.yaml is not valid YAML"):
        Schedule.load_yaml(workspace, str(tmp_path / "broken.yaml"))
