"""The dashboard's resubmit dialog (`p`) and `r` on a run whose pipeline script changed since."""
from __future__ import annotations

import asyncio

import pytest

from tests.conftest import amlocal

pytest.importorskip("textual")

from textual.widgets import Input  # noqa: E402

from store.layout import WorkspaceLayout  # noqa: E402
from store.runs import get_pipeline_run  # noqa: E402
from store.workspace import open_workspace  # noqa: E402
from tests.test_dashboard import _open_run, _open_runs, _table, _until  # noqa: E402
from tui.dashboard.app import DashboardApp  # noqa: E402
from tui.dashboard.resubmit_dialog import ResubmitDialog  # noqa: E402

SCRIPT = """\
import os
from azureml.core import Experiment, Workspace
from azureml.pipeline.core import Pipeline, PipelineParameter
from azureml.pipeline.steps import PythonScriptStep

here = os.path.dirname(os.path.abspath(__file__))
ws = Workspace.from_config()
n = PipelineParameter(name="n", default_value={n})
label = PipelineParameter(name="label", default_value="007")
step = PythonScriptStep(name="echo", script_name="echo.py", source_directory=os.path.join(here, "steps"),
                        arguments=["--n", n, "--label", label])
run = Experiment(ws, "resub").submit(Pipeline(ws, [step], description="resub"))
run.wait_for_completion(show_output=False)
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A workspace with one finished run of a one-step script pipeline (parameters n: int 3,
    label: text "007"); returns the workspace layout and the script."""
    monkeypatch.setenv("AMLOCAL_EXECUTOR", "local")
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "echo.py").write_text("import sys\nprint(sys.argv[1:])\n")
    script = tmp_path / "pipeline.py"
    script.write_text(SCRIPT.format(n=3))
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / ".amlocal"))
    done = amlocal("run", str(script), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return WorkspaceLayout(tmp_path / ".amlocal"), script


def _run(layout: WorkspaceLayout, run_id: str):
    with open_workspace(layout) as local:
        return get_pipeline_run(local.conn, run_id)


def _row_key(app, row: int) -> str:
    table = _table(app)
    return table.coordinate_to_cell_key((row, 0)).row_key.value


def _on_the_runs_screen(layout: WorkspaceLayout, scenario) -> None:
    """Open the dashboard on the runs of the project's pipeline (one run), then play
    `await scenario(app, pilot)`."""
    async def play() -> None:
        app = DashboardApp(layout)
        async with app.run_test(size=(180, 50)) as pilot:
            await _open_runs(app, pilot, 1)
            await scenario(app, pilot)
    asyncio.run(play())


async def _dialog(app, pilot) -> ResubmitDialog:
    await pilot.press("p")
    await _until(pilot, lambda: isinstance(app.screen, ResubmitDialog))
    return app.screen


def test_p_on_the_runs_screen_resubmits_with_the_edited_parameter_typed(project):
    layout, _ = project

    async def scenario(app, pilot):
        first = _table(app).current_key
        dialog = await _dialog(app, pilot)
        assert [i.value for i in dialog.query(Input)] == ["3", "007", ""]
        dialog.query_one("#param-0", Input).value = "5"
        dialog.query_one("#steps", Input).value = "echo"
        await pilot.click("#ok")
        await _until(pilot, lambda: _table(app).row_count == 2)
        new = _row_key(app, 0)
        assert new != first
        run = _run(layout, new)
        assert dict(run.parameters) == {"n": 5, "label": "007"}
        assert type(run.parameters["n"]) is int and type(run.parameters["label"]) is str
        assert len(run.forced["nodes"]) == 1
        assert run.forced["reason"] == "asked for (amlocal rerun --step echo)"
        notes = [n.message for n in app._notifications]
        assert notes == [f"started run {new[:8]}"]
    _on_the_runs_screen(layout, scenario)


def test_p_on_the_run_screen_with_a_bad_value_notifies_and_submits_nothing(project):
    layout, _ = project

    async def scenario(app, pilot):
        first = _table(app).current_key
        await _open_run(app, pilot, first)
        dialog = await _dialog(app, pilot)
        dialog.query_one("#param-0", Input).value = "many"
        await pilot.click("#ok")
        await _until(pilot, lambda: len(app._notifications) > 0)
        (note,) = list(app._notifications)
        assert note.severity == "error" and note.title == "could not do that"
        assert note.message == ("Exception: Pipeline parameter n expects a value of type int, "
                                "got str 'many'")
        await pilot.press("escape")
        await _until(pilot, lambda: _table(app).row_count == 1)
        await asyncio.sleep(1.5)  # a refresh later, still one run
        assert _table(app).row_count == 1
    _on_the_runs_screen(layout, scenario)


def test_an_unknown_step_name_notifies_and_submits_nothing(project):
    layout, _ = project

    async def scenario(app, pilot):
        dialog = await _dialog(app, pilot)
        dialog.query_one("#steps", Input).value = "echo, nope"
        await pilot.click("#ok")
        await _until(pilot, lambda: len(app._notifications) > 0)
        (note,) = list(app._notifications)
        assert note.message == "RunnerError: the pipeline has no step nope (its steps: echo)"
        await asyncio.sleep(1.5)
        assert _table(app).row_count == 1
    _on_the_runs_screen(layout, scenario)


def test_cancel_closes_the_dialog_and_submits_nothing(project):
    layout, _ = project

    async def scenario(app, pilot):
        await _dialog(app, pilot)
        await pilot.click("#cancel")
        await _until(pilot, lambda: not isinstance(app.screen, ResubmitDialog))
        await asyncio.sleep(1.5)
        assert _table(app).row_count == 1 and list(app._notifications) == []
    _on_the_runs_screen(layout, scenario)


def test_r_after_the_script_changed_evaluates_it_again(project):
    layout, script = project
    script.write_text(SCRIPT.format(n=9))

    async def scenario(app, pilot):
        first = _table(app).current_key
        await pilot.press("r")
        await _until(pilot, lambda: _table(app).row_count == 2, timeout=60)
        new = _row_key(app, 0)
        await _until(pilot, lambda: len(app._notifications) > 0)
        (note,) = list(app._notifications)
        assert note.message == (f"pipeline.py changed since run {first[:8]}: evaluated it "
                                f"again (run {new[:8]})")
        run = _run(layout, new)
        assert dict(run.parameters) == {"n": 9, "label": "007"}  # the script's new default
        assert run.script == str(script.resolve())
    _on_the_runs_screen(layout, scenario)


def test_r_with_the_script_unchanged_resubmits_the_stored_spec(project):
    layout, _ = project

    async def scenario(app, pilot):
        await pilot.press("r")
        await _until(pilot, lambda: _table(app).row_count == 2)
        new = _row_key(app, 0)
        await _until(pilot, lambda: len(app._notifications) > 0)
        assert [n.message for n in app._notifications] == [f"started run {new[:8]}"]
    _on_the_runs_screen(layout, scenario)


def test_r_after_the_script_broke_notifies_and_submits_nothing(project):
    layout, script = project
    script.write_text("raise ValueError('half saved')\n")

    async def scenario(app, pilot):
        first = _table(app).current_key
        await pilot.press("r")
        await _until(pilot, lambda: len(app._notifications) > 0, timeout=60)
        (note,) = list(app._notifications)
        assert note.severity == "error"
        assert note.message == (f"RunnerError: pipeline.py changed since run {first[:8]}, and "
                                "evaluating it submitted no run: amlocal: error: "
                                "pipeline.py:1: ValueError: half saved")
        await asyncio.sleep(1.5)
        assert _table(app).row_count == 1
    _on_the_runs_screen(layout, scenario)


def test_p_is_listed_in_the_keys_panel_and_the_command_palette(project):
    layout, _ = project

    async def scenario(app, pilot):
        bindings = {b.key: b.description for b in app.screen.BINDINGS}
        assert bindings["p"] == "Resubmit with parameters"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Resubmit with parameters" in titles
    _on_the_runs_screen(layout, scenario)
