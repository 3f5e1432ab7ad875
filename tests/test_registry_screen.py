"""The dashboard's registries screen (`a` from the pipelines screen): every registered version,
and the lineage of the highlighted one; driven headless with the Pilot, and a snapshot."""
from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("textual")

from rich.console import Console  # noqa: E402
from textual.widgets import Static  # noqa: E402

from store import registry  # noqa: E402
from store.catalog import ensure_experiment, ensure_pipeline  # noqa: E402
from store.database import transaction  # noqa: E402
from store.layout import WorkspaceLayout  # noqa: E402
from store.workspace import open_workspace  # noqa: E402
from tui.dashboard.app import DashboardApp  # noqa: E402
from tui.dashboard.keyed_table import KeyedTable  # noqa: E402
from tui.dashboard.pipelines_screen import PipelinesScreen  # noqa: E402
from tui.dashboard.registry_screen import RegistryScreen  # noqa: E402
from tests.test_dashboard import _cells, _until  # noqa: E402

T0 = 1_790_000_000.0
RUN = "44444444-dddd-4000-8000-000000000004"
TRAIN = "44444444-train"


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """One finished run whose train step read dataset customers:2 and registered model churn:1;
    an environment registered from a script; fixed ids and times."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    layout = WorkspaceLayout(tmp_path / ".amlocal")
    with open_workspace(layout) as local:
        conn = local.conn
        experiment = ensure_experiment(conn, "churn")
        pipeline = ensure_pipeline(conn, "churn", {"steps": []})
        with transaction(conn):
            conn.execute(
                "INSERT INTO pipeline_run (id, experiment_id, pipeline_id, status, created_at, "
                "start_time, end_time, parameters_json, tags_json, properties_json, "
                "continue_on_step_failure, regenerate_outputs, cancel_requested, run_dir) VALUES "
                "(?, ?, ?, 'Finished', ?, ?, ?, '{}', '{}', '{}', 0, 0, 0, ?)",
                (RUN, experiment, pipeline, T0, T0, T0 + 10, str(tmp_path / RUN)))
            conn.execute(
                "INSERT INTO step_run (id, pipeline_run_id, node_id, name, position, status, "
                "created_at, start_time, end_time, executor, decision, reason, arguments_json, "
                "outputs_json, properties_json, tags_json, phases_json, run_dir) VALUES "
                "(?, ?, 'node-train', 'train', 0, 'Finished', ?, ?, ?, 'local', 'run', 'rerun', "
                "'[]', '{}', '{}', '{}', '{}', ?)",
                (TRAIN, RUN, T0, T0, T0 + 9, str(tmp_path / RUN / TRAIN)))
        add = registry.add_version
        add(conn, "dataset", "customers", {}, description="raw customers",
            tags={"source": "crm"}, asset_id="d1")
        add(conn, "dataset", "customers", {}, description="[b]clean[/b] \x1b[31m",
            tags={"source": "crm"}, asset_id="d2")
        registry.record_use(conn, "d2", TRAIN, RUN)
        add(conn, "model", "churn", {}, description="churn model", tags={"stage": "prod"},
            made_by_step_run_id=TRAIN, made_by_pipeline_run_id=RUN, asset_id="m1")
        add(conn, "environment", "train-env", {"spec": {"base_image": "python:3.11-slim",
                                                        "python_version": "3.10.18",
                                                        "pip_packages": ["numpy"]}},
            asset_id="e1")
        with transaction(conn):
            conn.execute("UPDATE registered_asset SET created_at = ?", (T0 + 60,))
    return layout


def _rendered(widget: Static) -> str:
    console = Console(width=120, record=True, file=open("/dev/null", "w"))
    console.print(widget.content)
    return console.export_text()


async def _open(app, pilot) -> None:
    await _until(pilot, lambda: isinstance(app.screen, PipelinesScreen)
                 and app.screen.query_one(KeyedTable).row_count == 1)
    await pilot.press("a")
    await _until(pilot, lambda: isinstance(app.screen, RegistryScreen)
                 and app.screen.query_one("#assets", KeyedTable).row_count == 4)


def test_the_registry_screen_lists_versions_and_shows_each_ones_lineage(registered):
    async def scenario() -> None:
        app = DashboardApp(registered)
        async with app.run_test(size=(120, 40)) as pilot:
            await _open(app, pilot)
            screen = app.screen
            table = screen.query_one("#assets", KeyedTable)
            assert _cells(table) == [
                ["dataset customers:2", "1", "script", "source=crm", "[b]clean[/b] \\x1b[31m"],
                ["dataset customers:1", "0", "script", "source=crm", "raw customers"],
                ["model churn:1", "0", "44444444/train", "stage=prod", "churn model"],
                ["environment train-env:1", "0", "script", "-", "-"]]
            lineage = screen.query_one("#lineage", Static)
            await _until(pilot, lambda: "customers:2" in _rendered(lineage))
            text = _rendered(lineage)
            assert text.splitlines()[0] == "dataset customers:2"
            assert "  Description  [b]clean[/b] \\x1b[31m\n" in text  # literal, never markup
            assert f"  Used by      1 step run: {RUN}/train\n" in text
            await pilot.press("down", "down")  # the model: the run that made it, what it read
            await _until(pilot, lambda: _rendered(lineage).startswith("model churn:1"))
            text = _rendered(lineage)
            assert f"  Made by      {RUN}/train (experiment churn)\n" in text
            assert "  Made from    dataset customers:2\n" in text
            assert screen.asset_id == "m1" and type(screen.asset_id) is str
            await pilot.press("t")  # datasets only
            await _until(pilot, lambda: table.row_count == 2)
            assert screen.sub_title == "registries: datasets"
            assert [row[0] for row in _cells(table)] == ["dataset customers:2",
                                                         "dataset customers:1"]
            await _until(pilot, lambda: _rendered(lineage).startswith("dataset customers:"))
            await pilot.press("t", "t")  # environments
            await _until(pilot, lambda: table.row_count == 1)
            await _until(pilot, lambda: "  Image        python:3.11-slim\n" in _rendered(lineage))
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, PipelinesScreen))
    import asyncio
    asyncio.run(scenario())


def test_an_empty_registry_says_how_to_fill_it(tmp_path):
    layout = WorkspaceLayout(tmp_path / ".amlocal")
    open_workspace(layout).close()

    async def scenario() -> None:
        app = DashboardApp(layout)
        async with app.run_test(size=(120, 40)) as pilot:
            app.push_screen(RegistryScreen())
            await _until(pilot, lambda: isinstance(app.screen, RegistryScreen)
                         and _rendered(app.screen.query_one("#lineage", Static)).startswith(
                             "nothing registered yet"))
            assert app.screen.query_one("#assets", KeyedTable).row_count == 0
            assert app.screen.asset_id is None
    import asyncio
    asyncio.run(scenario())


def test_registry_screen_snapshot(registered, snap_compare):
    pytest.importorskip("pytest_textual_snapshot")

    async def ready(pilot):
        await _open(pilot.app, pilot)
        await _until(pilot, lambda: _rendered(pilot.app.screen.query_one("#lineage", Static))
                     .startswith("dataset customers:2"))
        await pilot.pause(0.3)
    assert snap_compare(DashboardApp(registered), terminal_size=(80, 24), run_before=ready)
