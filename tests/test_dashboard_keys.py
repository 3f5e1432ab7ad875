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
