"""Schedules: stored in SQLite, fired by the real workspace service, listed by the CLI."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from runner.sdk import Pipeline, PipelineParameter, PythonScriptStep
from runner.sdk.pipeline_endpoint import PipelineEndpoint
from runner.sdk.schedule import Schedule
from runner.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone
from runner.service.scheduler import fire_due
from runner.service_control import running_service
from runner.step_runtime.exceptions import UserErrorException
from store.runs import get_pipeline_run
from store.schedules import get_schedule
from tests.conftest import amlocal, python_with_compat


def _published(workspace, write, tmp_path):
    write("steps/s.py", "import sys\nprint('args', sys.argv[1:])\n")
    n = PipelineParameter("n", default_value=1)
    step = PythonScriptStep("s.py", name="s", arguments=["--n", n],
                            source_directory=str(tmp_path / "steps"))
    return Pipeline(workspace, [step]).publish("nightly")


def _wait_for_runs(schedule: Schedule, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = schedule.get_pipeline_runs()
        if len(runs) >= count:
            return runs
        time.sleep(0.2)
    raise AssertionError(f"schedule {schedule.name} started {len(schedule.get_pipeline_runs())} "
                         f"runs in {timeout} s, expected {count}")


def test_a_minute_schedule_without_start_fires_at_once_through_the_service(workspace, write,
                                                                           tmp_path):
    published = _published(workspace, write, tmp_path)
    schedule = Schedule.create(workspace, "every-minute", published.id, "sched",
                               recurrence=ScheduleRecurrence("Minute", 1),
                               pipeline_parameters={"n": 4})
    assert running_service(workspace._local.layout) is not None  # create started it
    runs = _wait_for_runs(schedule, 1)
    assert runs[0].wait_for_completion(show_output=False) == "Finished"
    record = get_pipeline_run(workspace._local.conn, runs[0].id)
    assert record.parameters == {"n": 4} and record.tags == {"amlocal.schedule_id": schedule.id}
    assert record.published_pipeline_id == published.id
    assert schedule.get_last_pipeline_run().id == runs[0].id
    import requests
    from runner.sdk.authentication import InteractiveLoginAuthentication
    ws_url = published.endpoint.split("/PipelineRuns/")[0]
    entity = requests.get(f"{ws_url}/PipelineRuns/{runs[0].id}",
                          headers=InteractiveLoginAuthentication().get_authentication_header()).json()
    assert entity["ScheduleId"] == schedule.id
    stored = get_schedule(workspace._local.conn, schedule.id)
    assert stored.last_run_id == runs[0].id
    # fired within the first minute, so the next fire is one minute after its creation
    assert schedule.next_fire_time == dt.datetime.fromtimestamp(
        stored.created_at, dt.timezone.utc) + dt.timedelta(minutes=1)
    schedule.disable()
    assert Schedule.get(workspace, schedule.id).status == "Disabled"
    assert fire_due(workspace._local, now=time.time() + 3600) == []  # disabled: never fires
    assert len(schedule.get_pipeline_runs()) == 1


def test_a_start_time_fires_on_time_and_a_missed_one_fires_once(workspace, write, tmp_path):
    published = _published(workspace, write, tmp_path)
    soon = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=3)).replace(tzinfo=None,
                                                                            microsecond=0)
    schedule = Schedule.create(workspace, "soon", published.id, "sched",
                               recurrence=ScheduleRecurrence("Hour", 1, start_time=soon,
                                                             time_zone=TimeZone.UTC))
    assert schedule.get_pipeline_runs() == []
    runs = _wait_for_runs(schedule, 1, timeout=30)
    fired = None
    while fired is None:  # the fire is recorded just after its run is submitted
        fired = get_schedule(workspace._local.conn, schedule.id).last_fired_at
    assert soon.replace(tzinfo=dt.timezone.utc).timestamp() <= fired
    runs[0].wait_for_completion(show_output=False)
    schedule.disable()
    past = ScheduleRecurrence("Minute", 1, start_time=dt.datetime(2020, 1, 1))
    missed = Schedule.create(workspace, "missed", published.id, "sched", recurrence=past)
    missed_runs = _wait_for_runs(missed, 1)
    missed.disable()
    time.sleep(1.5)  # the service checks every second: it fired once, not once per minute missed
    assert len(missed.get_pipeline_runs()) == 1
    missed_runs[0].wait_for_completion(show_output=False)


def test_schedule_list_get_endpoint_and_cli(workspace, write, tmp_path):
    published = _published(workspace, write, tmp_path)
    endpoint = PipelineEndpoint.publish(workspace, "ep", "d", published)
    start = dt.datetime(2030, 1, 7, 0, 0)
    daily = Schedule.create(workspace, "daily", published.id, "e",
                            recurrence=ScheduleRecurrence("Day", 1, start_time=start,
                                                          hours=[6], minutes=[30]))
    weekly = Schedule.create_for_pipeline_endpoint(
        workspace, "weekly", endpoint.id, "e",
        recurrence=ScheduleRecurrence("Week", 1, start_time=start, week_days=["Friday"]))
    assert [s.id for s in Schedule.list(workspace)] == [daily.id, weekly.id]
    assert [s.id for s in Schedule.list(workspace, pipeline_endpoint_id=endpoint.id)] == [weekly.id]
    assert [s.id for s in Schedule.get_schedules_for_pipeline_id(workspace, published.id)] == [daily.id]
    got = Schedule.get(workspace, daily.id)
    assert (got.name, got.recurrence.frequency, got.recurrence.hours) == ("daily", "Day", [6])
    assert got.next_fire_time == dt.datetime(2030, 1, 7, 6, 30, tzinfo=dt.timezone.utc)
    assert weekly.next_fire_time == dt.datetime(2030, 1, 11, 0, 0, tzinfo=dt.timezone.utc)
    weekly.disable()
    listed = amlocal("schedules", cwd=tmp_path,
                     env={"AMLOCAL_HOME": str(workspace._local.layout.root)})
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STATUS", "RECURRENCE", "PIPELINE", "EXPERIMENT",
                                "NEXT", "FIRE", "LAST", "RUN"]
    assert daily.id in lines[1] and "2030-01-07 06:30:00 UTC" in lines[1] and "every 1 Day" in lines[1]
    assert weekly.id in lines[2] and "Disabled" in lines[2] and f"endpoint {endpoint.id}" in lines[2]


def test_bad_schedules_say_what_is_wrong(workspace, write, tmp_path):
    published = _published(workspace, write, tmp_path)
    with pytest.raises(ValueError, match="Can only specify hours if frequency is Week or Day."):
        Schedule.create(workspace, "x", published.id, "e",
                        recurrence=ScheduleRecurrence("Minute", 1, hours=[3]))
    with pytest.raises(UserErrorException, match="datastore must be a Datastore"):
        Schedule.create(workspace, "x", published.id, "e", datastore=object())
    with pytest.raises(UserErrorException, match="no published pipeline with id nope"):
        Schedule.create(workspace, "x", "nope", "e", recurrence=ScheduleRecurrence("Day", 1))
    with pytest.raises(ValueError, match="Schedule requires a recurrence"):
        Schedule.create(workspace, "x", published.id, "e")
    with pytest.raises(ValueError, match="amlocal does not provide time zone 'Arabic Standard Time'"):
        Schedule.create(workspace, "x", published.id, "e", recurrence=ScheduleRecurrence(
            "Day", 1, start_time="2030-01-01T00:00:00", time_zone=TimeZone.ArabicStandardTime))
    assert Schedule.list(workspace, active_only=False) == []


def test_the_compat_import_gives_schedule():
    done = python_with_compat("from azureml.pipeline.core.schedule import Schedule, ScheduleRecurrence\n"
                              "from azureml.pipeline.core import Schedule as S\n"
                              "print(S is Schedule, Schedule.__module__)\n")
    assert done.stdout == "True runner.sdk.schedule\n", done.stderr
