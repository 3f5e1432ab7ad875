"""The dashboard's published screen (`p` from the pipelines screen): published pipelines,
endpoints (versions, default) and schedules (status, next fire, last run); `e` enables or
disables a schedule, `t` runs it now. Driven headless with the Pilot, and a snapshot."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

pytest.importorskip("textual")

from rich.console import Console  # noqa: E402
from textual.widgets import Static  # noqa: E402

from runner.sdk import Pipeline, PipelineParameter, PythonScriptStep  # noqa: E402
from runner.sdk.schedule import Schedule  # noqa: E402
from runner.sdk.schedule_recurrence import ScheduleRecurrence  # noqa: E402
from store.catalog import ensure_experiment, ensure_pipeline  # noqa: E402
from store.database import transaction  # noqa: E402
from store.layout import WorkspaceLayout  # noqa: E402
from store.runs import get_pipeline_run  # noqa: E402
from store.schedules import get_schedule  # noqa: E402
from store.workspace import open_workspace  # noqa: E402
from tui.dashboard.app import DashboardApp  # noqa: E402
from tui.dashboard.keyed_table import KeyedTable  # noqa: E402
from tui.dashboard.pipelines_screen import PipelinesScreen  # noqa: E402
from tui.dashboard.published_screen import PublishedScreen  # noqa: E402
from tests.test_dashboard import _cells, _until as dashboard_until  # noqa: E402

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
P1, P2, P3 = ("aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002",
              "cccccccc-0000-4000-8000-000000000003")
EP = "eeeeeeee-0000-4000-8000-00000000000e"
RUN = "44444444-dddd-4000-8000-000000000004"
DAILY = {"frequency": "Day", "interval": 1, "start_time": "2030-01-07T00:00:00",
         "time_zone": "UTC", "hours": [6], "minutes": [30], "week_days": None}
TRIGGER = {"datastore": "workspaceblobstore", "path_on_datastore": "in/",
           "polling_interval": 5, "data_path_parameter_name": "input_path"}


@pytest.fixture
def listed(tmp_path, monkeypatch):
    """Three published pipelines (one disabled, with markup in its name), an endpoint of two
    of them, and three schedules (daily with a last run, on a datastore, disabled); fixed ids
    and times."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    layout = WorkspaceLayout(tmp_path / ".amlocal")
    with open_workspace(layout) as local:
        conn = local.conn
        experiment = ensure_experiment(conn, "nightly")
        pipeline = ensure_pipeline(conn, "nightly", {"steps": []})
        with transaction(conn):
            for i, (pid, name, version, status) in enumerate(
                    [(P1, "nightly", "1", "Active"), (P2, "nightly", "2", "Active"),
                     (P3, "[b]scoring[/b]", None, "Disabled")]):
                conn.execute("INSERT INTO published_pipeline (id, name, description, version, "
                             "pipeline_id, status, continue_on_step_failure, created_at) VALUES "
                             "(?, ?, NULL, ?, ?, ?, NULL, ?)",
                             (pid, name, version, pipeline, status, T0 + 60 * i))
            conn.execute("INSERT INTO pipeline_endpoint (id, name, description, default_version, "
                         "status, created_at) VALUES (?, 'nightly-ep', NULL, '1', 'Active', ?)",
                         (EP, T0))
            for version, pid in (("0", P1), ("1", P2)):
                conn.execute("INSERT INTO pipeline_endpoint_version (endpoint_id, version, "
                             "published_pipeline_id, created_at) VALUES (?, ?, ?, ?)",
                             (EP, version, pid, T0))
            conn.execute(
                "INSERT INTO pipeline_run (id, experiment_id, pipeline_id, status, created_at, "
                "start_time, end_time, parameters_json, tags_json, properties_json, "
                "continue_on_step_failure, regenerate_outputs, cancel_requested, run_dir) VALUES "
                "(?, ?, ?, 'Finished', ?, ?, ?, '{}', '{}', '{}', 0, 0, 0, ?)",
                (RUN, experiment, pipeline, T0, T0, T0 + 10, str(tmp_path / RUN)))
            rows = [("s1", "daily", P2, None, json.dumps(DAILY), None, "Active", RUN, '{"n": 4}'),
                    ("s2", "on-data", None, EP, "null", json.dumps(TRIGGER), "Active", None, "{}"),
                    ("s3", "weekly", P1, None, json.dumps({**DAILY, "frequency": "Week",
                                                           "hours": None, "minutes": None}),
                     None, "Disabled", None, "{}")]
            for i, (sid, name, pid, eid, rec, trig, status, last, params) in enumerate(rows):
                conn.execute("INSERT INTO schedule (id, name, pipeline_id, pipeline_endpoint_id, "
                             "experiment_name, parameters_json, recurrence_json, "
                             "datastore_trigger_json, status, last_run_id, last_fired_at, "
                             "created_at) VALUES (?, ?, ?, ?, 'nightly', ?, ?, ?, ?, ?, ?, ?)",
                             (sid, name, pid, eid, params, rec, trig, status, last,
                              T0 + 5 if last else None, T0 + i))
    return layout


def _rendered(widget: Static) -> str:
    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(widget.content)
    return console.export_text()


async def _until(pilot, predicate, timeout: float = 20.0) -> None:
    await dashboard_until(pilot, predicate, timeout)


async def _open(app, pilot, schedules: int) -> None:
    await _until(pilot, lambda: isinstance(app.screen, PipelinesScreen))
    await pilot.press("p")
    await _until(pilot, lambda: isinstance(app.screen, PublishedScreen)
                 and app.screen.query_one("#schedules", KeyedTable).row_count == schedules)


def test_the_published_screen_lists_pipelines_endpoints_and_schedules(listed):
    async def scenario() -> None:
        app = DashboardApp(listed)
        async with app.run_test(size=(160, 40)) as pilot:
            await _open(app, pilot, 3)
            screen = app.screen
            assert _cells(screen.query_one("#published", KeyedTable)) == [
                ["[b]scoring[/b]", "-", "Disabled", "2026-09-21 14:15:20", "-", P3],
                ["nightly", "2", "Active", "2026-09-21 14:14:20", "nightly-ep", P2],
                ["nightly", "1", "Active", "2026-09-21 14:13:20", "nightly-ep", P1]]
            assert _cells(screen.query_one("#endpoints", KeyedTable)) == [
                ["nightly-ep", "Active", "1", "0=nightly 1=nightly", EP]]
            schedules = screen.query_one("#schedules", KeyedTable)
            assert _cells(schedules) == [
                ["daily", "Active", "every 1 Day", "2030-01-07 06:30 UTC", "44444444 Finished"],
                ["on-data", "Active", "on workspaceblobstore/in/", "on change", "-"],
                ["weekly", "Disabled", "every 1 Week", "-", "-"]]
            detail = screen.query_one("#schedule-detail", Static)
            await _until(pilot, lambda: _rendered(detail).startswith("daily:"))
            assert _rendered(detail).strip() == (
                "daily: pipeline nightly → experiment nightly · every 1 Day · parameters n=4 · "
                "last fired 2026-09-21 14:13:25")
            await pilot.press("down")
            await _until(pilot, lambda: _rendered(detail).startswith("on-data:"))
            assert _rendered(detail).strip() == (
                "on-data: endpoint nightly-ep → experiment nightly · on workspaceblobstore/in/ · "
                "parameters defaults · last fired -")
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, PipelinesScreen))
    asyncio.run(scenario())


def test_an_empty_workspace_says_how_to_publish(tmp_path):
    layout = WorkspaceLayout(tmp_path / ".amlocal")
    open_workspace(layout).close()

    async def scenario() -> None:
        app = DashboardApp(layout)
        async with app.run_test(size=(120, 40)) as pilot:
            await _open(app, pilot, 0)
            detail = app.screen.query_one("#schedule-detail", Static)
            await _until(pilot, lambda: _rendered(detail).startswith("nothing published yet"))
            assert app.screen.query_one("#published", KeyedTable).row_count == 0
    asyncio.run(scenario())


def test_keys_disable_enable_and_trigger_a_schedule(workspace, write, tmp_path):
    write("steps/s.py", "print('hello')\n")
    n = PipelineParameter("n", default_value=1)
    step = PythonScriptStep("s.py", name="s", arguments=["--n", n],
                            source_directory=str(tmp_path / "steps"))
    published = Pipeline(workspace, [step]).publish("nightly")
    later = ScheduleRecurrence("Day", 1, start_time="2030-01-07T00:00:00")
    schedule = Schedule.create(workspace, "daily", published.id, "by-hand", recurrence=later,
                               pipeline_parameters={"n": 7})
    layout = workspace._local.layout
    conn = workspace._local.conn

    async def scenario() -> None:
        app = DashboardApp(layout)
        async with app.run_test(size=(160, 40)) as pilot:
            await _open(app, pilot, 1)
            table = app.screen.query_one("#schedules", KeyedTable)
            await pilot.press("e")
            await _until(pilot, lambda: _cells(table)[0][1:4] == ["Disabled", "every 1 Day", "-"])
            assert get_schedule(conn, schedule.id).status == "Disabled"
            await pilot.press("e")
            await _until(pilot, lambda: _cells(table)[0][1] == "Active")
            assert get_schedule(conn, schedule.id).status == "Active"
            assert _cells(table)[0][3] == "2030-01-07 00:00 UTC"
            await pilot.press("t")
            await _until(pilot, lambda: get_schedule(conn, schedule.id).last_run_id is not None)
            run_id = get_schedule(conn, schedule.id).last_run_id
            await _until(pilot, lambda: _cells(table)[0][4].startswith(run_id[:8]))
            assert _cells(table)[0][3] == "2030-01-07 00:00 UTC"  # the recurrence goes on
    asyncio.run(scenario())
    stored = get_schedule(conn, schedule.id)
    assert stored.last_fired_at is None and type(stored.last_run_id) is str
    run = get_pipeline_run(conn, stored.last_run_id)
    assert (run.parameters, run.tags, run.experiment_name, run.published_pipeline_id) == \
        ({"n": 7}, {"amlocal.schedule_id": schedule.id}, "by-hand", published.id)
    assert schedule.get_last_pipeline_run().wait_for_completion(show_output=False) == "Finished"


def test_published_screen_snapshot(listed, snap_compare):
    pytest.importorskip("pytest_textual_snapshot")

    async def ready(pilot):
        await _open(pilot.app, pilot, 3)
        await _until(pilot, lambda: _rendered(pilot.app.screen.query_one("#schedule-detail", Static))
                     .startswith("daily:"))
        await pilot.pause(0.3)
    assert snap_compare(DashboardApp(listed), terminal_size=(80, 24), run_before=ready)
