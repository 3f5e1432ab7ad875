"""Screenshots of each dashboard screen over a workspace with fixed ids and frozen times.

Update them after a deliberate change with `pytest tests/test_dashboard_snapshots.py
--snapshot-update`, and look at the SVGs under tests/__snapshots__/ before committing.
"""
from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("pytest_textual_snapshot")

from store.catalog import ensure_experiment, ensure_pipeline  # noqa: E402
from store.database import transaction  # noqa: E402
from store.layout import WorkspaceLayout  # noqa: E402
from store.workspace import open_workspace  # noqa: E402
from tui.dashboard.app import DashboardApp  # noqa: E402
from tui.dashboard.keyed_table import KeyedTable  # noqa: E402

T0 = 1_790_000_000.0  # a fixed moment; the tests run in UTC
SIZE = (150, 40)
RUNS = [("11111111-aaaa-4000-8000-000000000001", 0.25, "Finished", 0),
        ("22222222-bbbb-4000-8000-000000000002", 0.30, "Finished", 2),
        ("33333333-cccc-4000-8000-000000000003", 0.30, "Failed", 2)]
STEPS = ["prep", "train", "compare"]


@pytest.fixture
def frozen(tmp_path, monkeypatch):
    """A workspace with three runs of one pipeline, all times fixed."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    layout = WorkspaceLayout(tmp_path / ".amlocal")
    with open_workspace(layout) as local:
        conn = local.conn
        experiment = ensure_experiment(conn, "compare-models")
        pipeline = ensure_pipeline(conn, "compare_models", {"steps": []})
        with transaction(conn):
            for n, (run_id, fraction, status, reused) in enumerate(RUNS):
                start = T0 + n * 600
                conn.execute(
                    "INSERT INTO pipeline_run (id, experiment_id, pipeline_id, status, created_at, "
                    "start_time, end_time, parameters_json, tags_json, properties_json, "
                    "continue_on_step_failure, regenerate_outputs, cancel_requested, run_dir, "
                    "git_branch, git_commit, git_dirty, error) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, '{}', '{}', 0, 0, 0, ?, 'main', ?, ?, ?)",
                    (run_id, experiment, pipeline, status, start, start, start + 12.5 + n,
                     json.dumps({"test_fraction": fraction}), str(tmp_path / run_id),
                     f"{n}abcdef0123456789", n == 2,
                     "steps failed: compare" if status == "Failed" else None))
                for position, name in enumerate(STEPS):
                    step_id = f"{run_id[:8]}-{name}"
                    folder = tmp_path / run_id / step_id
                    folder.mkdir(parents=True)
                    (folder / "stdout.txt").write_text(f"{name}: working\n{name}: done\n")
                    failed = status == "Failed" and name == "compare"
                    was_reused = position < reused
                    phases = {"queued": start + position, "preparing": start + position + 0.1,
                              "starting": start + position + 0.3, "running": start + position + 0.5,
                              "ended": start + position + 3.5}
                    conn.execute(
                        "INSERT INTO step_run (id, pipeline_run_id, node_id, name, position, status, "
                        "created_at, start_time, end_time, executor, decision, reason, error, "
                        "arguments_json, outputs_json, properties_json, tags_json, phases_json, "
                        "run_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'local', ?, ?, ?, '[]', '{}', "
                        "'{}', '{}', ?, ?)",
                        (step_id, run_id, f"node-{name}", name, position,
                         "Failed" if failed else "Finished", start, start + position + 0.5,
                         start + position + 3.5, "reused" if was_reused else "run",
                         f"reused from 11111111/{name}" if was_reused else
                         f"rerun: no earlier run of step {name}",
                         "exit code 1: ValueError: no models" if failed else None,
                         json.dumps(phases), str(folder)))
                    conn.executemany(
                        "INSERT INTO metric (run_id, name, kind, seq, value, logged_at) "
                        "VALUES (?, 'loss', 'scalar', ?, ?, ?)",
                        [(step_id, seq, 1.0 / (seq + 1), start) for seq in range(5)])
                    conn.execute(
                        "INSERT INTO metric_latest (run_id, name, kind, value, count, updated_at) "
                        "VALUES (?, 'loss', 'scalar', 0.2, 5, ?)", (step_id, start))
    return layout


SMALL = (80, 24)
DAG_SPEC = {"steps": [{"node_id": "node-prep", "name": "prep"},
                      {"node_id": "node-train", "name": "train", "run_after": ["node-prep"]},
                      {"node_id": "node-compare", "name": "compare",
                       "run_after": ["node-prep", "node-train"]}]}


@pytest.fixture
def frozen_dag(frozen):
    """`frozen` with a graph (prep → train → compare, prep → compare) and a second series,
    `acc`, beside `loss` in every step."""
    with open_workspace(frozen) as local:
        conn = local.conn
        with transaction(conn):
            conn.execute("UPDATE pipeline SET spec_json = ?", (json.dumps(DAG_SPEC),))
            for n, (run_id, *_) in enumerate(RUNS):
                for name in STEPS:
                    step_id = f"{run_id[:8]}-{name}"
                    conn.executemany(
                        "INSERT INTO metric (run_id, name, kind, seq, value, logged_at) "
                        "VALUES (?, 'acc', 'scalar', ?, ?, ?)",
                        [(step_id, seq, 0.5 + seq / 8 + n / 16, T0) for seq in range(4)])
                    conn.execute(
                        "INSERT INTO metric_latest (run_id, name, kind, value, count, updated_at) "
                        "VALUES (?, 'acc', 'scalar', ?, 4, ?)", (step_id, 0.875 + n / 16, T0))
    return frozen


async def _wait_rows(pilot, selector: str, count: int) -> None:
    from textual.css.query import NoMatches
    for _ in range(400):
        try:
            if pilot.app.screen.query_one(selector, KeyedTable).row_count == count:
                await pilot.pause(0.2)
                return
        except NoMatches:
            pass
        await pilot.pause(0.02)
    raise AssertionError(f"{selector} never had {count} rows")


async def _wait_log(pilot) -> None:
    """Until the step's log tail is in the Logs tab (it is read by a worker)."""
    from textual.css.query import NoMatches
    from textual.widgets import Log
    for _ in range(400):
        try:
            if pilot.app.screen.query_one("#log", Log).line_count > 0:
                await pilot.pause(0.2)
                return
        except NoMatches:
            pass
        await pilot.pause(0.02)
    raise AssertionError("the log tail never came")


async def _open_runs(pilot) -> None:
    """Pipelines → the runs of the (only) pipeline."""
    await _wait_rows(pilot, "KeyedTable", 1)
    await pilot.press("enter")
    await _wait_rows(pilot, "#runs", 3)


async def _open_newest_run(pilot) -> None:
    """… → the newest run's screen, its steps and log loaded."""
    await _open_runs(pilot)
    await pilot.press("enter")
    await _wait_rows(pilot, "#steps", 3)


def test_pipelines_screen(frozen, snap_compare):
    async def ready(pilot):
        await _wait_rows(pilot, "KeyedTable", 1)
    assert snap_compare(DashboardApp(frozen), terminal_size=SIZE, run_before=ready)


def test_runs_screen(frozen, snap_compare):
    assert snap_compare(DashboardApp(frozen), terminal_size=SIZE, run_before=_open_runs)


def test_run_screen(frozen, snap_compare):
    async def ready(pilot):
        await _open_newest_run(pilot)
        await _wait_log(pilot)
    assert snap_compare(DashboardApp(frozen), terminal_size=SIZE, run_before=ready)


def test_compare_screen(frozen, snap_compare):
    async def ready(pilot):
        await _open_runs(pilot)
        await pilot.press("space", "down", "down", "space", "d")
        await pilot.pause(0.5)
    assert snap_compare(DashboardApp(frozen), terminal_size=SIZE, run_before=ready)


def test_run_screen_metrics_tab(frozen, snap_compare):
    """The metrics tab of the highlighted step: its latest values and the plot of its series."""
    async def ready(pilot):
        from textual.widgets import TabbedContent
        await _open_newest_run(pilot)
        pilot.app.screen.query_one(TabbedContent).active = "metrics"
        await _wait_rows(pilot, "#metric-table", 1)
        await pilot.pause(0.5)
    assert snap_compare(DashboardApp(frozen), terminal_size=SIZE, run_before=ready)


# ---- every screen usable at 80×24 (the graph view, the series picker and the overlay)

def test_run_screen_small(frozen_dag, snap_compare):
    async def ready(pilot):
        await _open_newest_run(pilot)
        await _wait_log(pilot)
    assert snap_compare(DashboardApp(frozen_dag), terminal_size=SMALL, run_before=ready)


def test_run_screen_dag_small(frozen_dag, snap_compare):
    """`d`: the steps as a graph, the cursor on the failed step."""
    async def ready(pilot):
        await _open_newest_run(pilot)
        await pilot.press("d")
        await pilot.pause(0.5)
    assert snap_compare(DashboardApp(frozen_dag), terminal_size=SMALL, run_before=ready)


def test_run_screen_metrics_tab_small(frozen_dag, snap_compare):
    """The metrics tab with its second series picked (`]`): table, caption and plot fit."""
    async def ready(pilot):
        await _open_newest_run(pilot)
        await pilot.press("2")
        await _wait_rows(pilot, "#metric-table", 2)
        await pilot.press("right_square_bracket")
        await pilot.pause(0.5)
    assert snap_compare(DashboardApp(frozen_dag), terminal_size=SMALL, run_before=ready)


def test_compare_screen_small(frozen_dag, snap_compare):
    """Two marked runs: the differing facts and the overlay of their first metric's series."""
    async def ready(pilot):
        await _open_runs(pilot)
        await pilot.press("space", "down", "down", "space", "d")
        await pilot.pause(0.8)
    assert snap_compare(DashboardApp(frozen_dag), terminal_size=SMALL, run_before=ready)
