"""The dashboard's inner-loop keys: a failed run opens on its first failed step and `n`/`N`
move between failures, `j`/`k`/`g`/`G` move like vi, `?` shows and hides the keys, `y` copies
the run id."""
from __future__ import annotations

import asyncio

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from tests.test_dashboard import _open_run, _table, _until
from tui.dashboard.app import DashboardApp


def _failing_run(workspace, write, tmp_path):
    """Steps ok1, bad1, ok2, bad2 (independent, so both failures happen)."""
    steps = []
    for name, fails in (("ok1", False), ("bad1", True), ("ok2", False), ("bad2", True)):
        write(f"steps/{name}.py", f"raise SystemExit('{name} broke')\n" if fails else "print('ok')\n")
        steps.append(PythonScriptStep(f"{name}.py", name=name, source_directory=str(tmp_path / "steps")))
    run = Experiment(workspace, "fails").submit(Pipeline(workspace, steps),
                                                continue_on_step_failure=True)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    return run


def test_a_failed_run_opens_on_its_first_failure_and_n_moves_between_failures(workspace, write, tmp_path):
    run = _failing_run(workspace, write, tmp_path)
    names = {s.id: s.name for s in run.get_steps()}

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_run(app, pilot, run.id, steps=4)
            table = _table(app, "#steps")
            await _until(pilot, lambda: app.screen.step_id is not None)
            assert names[table.current_key] == "bad1" and names[app.screen.step_id] == "bad1"
            await pilot.press("n")
            assert names[table.current_key] == "bad2"
            await pilot.press("n")  # wraps around
            assert names[table.current_key] == "bad1"
            await pilot.press("N")
            assert names[table.current_key] == "bad2"
            await pilot.press("g")
            assert table.cursor_row == 0
            await pilot.press("j", "j")
            assert table.cursor_row == 2
            await pilot.press("k")
            assert table.cursor_row == 1
            await pilot.press("G")
            assert table.cursor_row == 3
    asyncio.run(scenario())


def test_question_mark_toggles_the_keys_and_y_copies_the_run_id(workspace, write, tmp_path):
    run = _failing_run(workspace, write, tmp_path)

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # what would go to the terminal as OSC 52
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_run(app, pilot, run.id, steps=4)
            await pilot.press("question_mark")
            await _until(pilot, lambda: len(app.screen.query("HelpPanel")) == 1)
            await pilot.press("question_mark")
            await _until(pilot, lambda: len(app.screen.query("HelpPanel")) == 0)
            await pilot.press("y")
            assert copied == [run.id]
    asyncio.run(scenario())


def test_a_reused_steps_logs_tab_shows_the_original_log_marked_as_such(workspace, write, tmp_path):
    from textual.widgets import Log
    write("steps/hello.py", "print('hello from the run that ran')\n")
    step = PythonScriptStep("hello.py", name="hello", source_directory=str(tmp_path / "steps"))
    first = Experiment(workspace, "logs").submit(Pipeline(workspace, [step]))
    assert first.wait_for_completion(show_output=False) == "Finished"
    again = Experiment(workspace, "logs").submit(Pipeline(workspace, [step]))
    assert again.wait_for_completion(show_output=False) == "Finished"
    (original,) = first.find_step_run("hello")
    (reused,) = again.find_step_run("hello")
    assert reused._record().decision == "reused"

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_run(app, pilot, again.id)
            log = app.screen.query_one("#log", Log)
            await _until(pilot, lambda: "hello from the run that ran" in log.lines)
            assert log.lines[0] == (f"(reused: the log of step run {original.id} of run {first.id})")
    asyncio.run(scenario())


def test_the_logs_tab_starts_with_the_preparation_log(workspace, write, tmp_path):
    from textual.widgets import Log

    from runner.sdk import Environment, RunConfiguration
    from runner.sdk.conda_dependencies import CondaDependencies
    write("steps/hello.py", "print('step output')\n")
    config = RunConfiguration()
    config.environment = Environment("with-packages")
    config.environment.python.conda_dependencies = CondaDependencies.create(pip_packages=["tqdm"])
    step = PythonScriptStep("hello.py", name="hello", source_directory=str(tmp_path / "steps"),
                            runconfig=config)
    run = Experiment(workspace, "prep-log").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_run(app, pilot, run.id)
            log = app.screen.query_one("#log", Log)
            await _until(pilot, lambda: "step output" in log.lines)
            assert log.lines[0].startswith("local executor: environment packages tqdm are not installed")
            assert log.lines.index("step output") > 0
def test_s_opens_amlocal_debug_on_the_highlighted_step(workspace, write, tmp_path, monkeypatch):
    """`s` suspends the dashboard and runs `amlocal debug RUN STEP` on the highlighted (first
    failed) step; a headless app cannot suspend, so the test stands in for the suspension."""
    import contextlib
    from tui.dashboard import run_screen
    run = _failing_run(workspace, write, tmp_path)
    opened: list[tuple[str, str]] = []
    monkeypatch.setattr(run_screen, "open_debug_shell",
                        lambda run_id, name: opened.append((run_id, name)) or 0)

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        app.suspend = contextlib.nullcontext  # headless: nothing to hand the terminal to
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_run(app, pilot, run.id, steps=4)
            await _until(pilot, lambda: app.screen.step_id is not None)
            await pilot.press("s")
            assert opened == [(run.id, "bad1")]
            await pilot.press("n", "s")
            assert opened == [(run.id, "bad1"), (run.id, "bad2")]
    asyncio.run(scenario())
