"""The dashboard, driven headless with Textual's Pilot against a real workspace."""
from __future__ import annotations

import asyncio
import os
import shutil
import time

import pytest

from tests.conftest import REPO, amlocal

pytest.importorskip("textual")

from textual.widgets import Log, TabbedContent  # noqa: E402

from tui.dashboard.app import DashboardApp  # noqa: E402
from tui.dashboard.keyed_table import KeyedTable  # noqa: E402
from tui.dashboard.pipelines_screen import PipelinesScreen  # noqa: E402
from tui.dashboard.run_screen import RunScreen  # noqa: E402
from tui.dashboard.runs_screen import RunsScreen  # noqa: E402


@pytest.fixture
def sample_workspace(tmp_path, monkeypatch):
    """A workspace holding one finished run of the sample pipeline (local processes)."""
    monkeypatch.setenv("AMLOCAL_EXECUTOR", "local")  # also for reruns started by the dashboard
    shutil.copytree(REPO / "sample_projects" / "compare_models", tmp_path / "compare_models")
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    done = amlocal("run", str(tmp_path / "compare_models" / "pipeline.py"), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    from store.layout import WorkspaceLayout
    return WorkspaceLayout(tmp_path / ".amlocal")


async def _until(pilot, predicate, timeout: float = 15.0) -> None:
    """Wait until `predicate()` holds (a widget not composed yet counts as not yet)."""
    from textual.css.query import NoMatches
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except NoMatches:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the dashboard never showed it")
        await pilot.pause(0.05)


def _rendered(app, widget) -> str:
    """The text a Static shows (its renderable, rendered without markup)."""
    from rich.console import Console
    console = Console(width=120, record=True, file=open("/dev/null", "w"))
    console.print(widget.content)
    return console.export_text()


async def _open_runs(app, pilot, count: int) -> None:
    """From the pipelines screen to the runs of the (only) pipeline, `count` of them."""
    await _until(pilot, lambda: _table(app).row_count == 1)
    await pilot.press("enter")
    await _until(pilot, lambda: isinstance(app.screen, RunsScreen) and _table(app).row_count == count)


async def _open_run(app, pilot, run_id: str, steps: int = 1) -> None:
    """Open the run screen of `run_id` and wait until its `steps` steps are listed."""
    app.push_screen(RunScreen(run_id))
    await _until(pilot, lambda: isinstance(app.screen, RunScreen)
                 and _table(app, "#steps").row_count == steps)


def _table(app, selector: str = "KeyedTable") -> KeyedTable:
    return app.screen.query_one(selector, KeyedTable)


def _cells(table: KeyedTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def test_navigate_pipelines_runs_run_and_read_a_steps_logs_and_metrics(sample_workspace):
    async def scenario():
        app = DashboardApp(sample_workspace)
        async with app.run_test(size=(180, 50)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, PipelinesScreen) and _table(app).row_count == 1)
            row = _cells(_table(app))[0]
            assert row[:2] == ["compare_models", "Finished"] and row[4] == "1"
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, RunsScreen) and _table(app).row_count == 1)
            assert _cells(_table(app))[0][1] == "Finished"
            assert "test_fraction=0.25" in _cells(_table(app))[0][5]
            assert _cells(_table(app))[0][8].startswith("best_rmse=1.64")  # the headline metric
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, RunScreen) and _table(app, "#steps").row_count == 4)
            steps = _cells(_table(app, "#steps"))
            assert [s[0] for s in steps] == ["prep", "train_mean", "train_linear", "compare"]
            assert "prepare " in steps[0][4] and "run " in steps[0][4]  # the phase breakdown
            log = app.screen.query_one("#log", Log)
            await _until(pilot, lambda: any("prep: train" in line or "rows" in line for line in log.lines))
            await pilot.press("down", "down")  # train_linear
            await _until(pilot, lambda: any(line.startswith("linear: rmse=") for line in log.lines))
            await pilot.press("2")  # the Metrics tab; the cursor stays in the steps table
            assert app.screen.query_one(TabbedContent).active == "metrics"
            metrics = lambda: {r[0]: r for r in _cells(_table(app, "#metric-table"))}  # noqa: E731
            await _until(pilot, lambda: "rmse" in metrics() and "squared_error" in metrics())
            assert metrics()["squared_error"][3] == "50"  # the series behind the plot
            await pilot.press("down")  # compare: its log_row metric as a table
            await _until(pilot, lambda: "comparison" in metrics())
            tables = app.screen.query_one("#metric-tables")
            await _until(pilot, lambda: "linear" in _rendered(app, tables))
            assert "model" in _rendered(app, tables) and "rmse" in _rendered(app, tables)
            await pilot.press("up")
            await pilot.press("3")
            assert app.screen.query_one(TabbedContent).active == "outputs"
            outputs = lambda: {r[0]: r for r in _cells(_table(app, "#output-table"))}  # noqa: E731
            await _until(pilot, lambda: "linear_model" in outputs())
            assert outputs()["linear_model"][1] == "output"
            assert outputs()["linear_model"][3].startswith("workspaceblobstore:azureml/")
            assert outputs()["outputs/model.json"][1] == "artifact"
            await pilot.press("escape", "escape")
            assert isinstance(app.screen, PipelinesScreen)
    asyncio.run(scenario())


def test_rerun_from_the_runs_screen_appears_live_and_is_reused(sample_workspace):
    async def scenario():
        app = DashboardApp(sample_workspace)
        async with app.run_test(size=(180, 50)) as pilot:
            await _open_runs(app, pilot, 1)
            first = _table(app).current_key
            await pilot.press("r")
            await _until(pilot, lambda: _table(app).row_count == 2)
            rows = _cells(_table(app))
            await _until(pilot, lambda: _cells(_table(app))[0][1] == "Finished")
            assert _table(app).current_key == first  # the cursor stayed on its run
            assert _cells(_table(app))[0][6] == "4/4"  # nothing changed: every step reused
            assert rows[1][0].strip() == first[:8]  # newest first
    asyncio.run(scenario())


def test_a_running_steps_log_is_followed_live_and_c_cancels_the_run(workspace, write, tmp_path):
    from runner.sdk import Experiment, Pipeline, PythonScriptStep
    write("steps/slow.py", """
        import time
        for i in range(600):
            print(f"tick {i}", flush=True)
            time.sleep(0.1)
    """)
    step = PythonScriptStep("slow.py", name="slow", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "slow").submit(Pipeline(workspace, [step]))

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        async with app.run_test(size=(180, 50)) as pilot:
            await _open_run(app, pilot, run.id)
            log = app.screen.query_one("#log", Log)
            await _until(pilot, lambda: "tick 1" in log.lines)
            await _until(pilot, lambda: "tick 8" in log.lines)  # still arriving: a live tail
            usage = app.screen.query_one("#usage")
            await _until(pilot, lambda: "memory" in str(usage.render()))  # live CPU and memory
            await pilot.press("c")  # asks first: nothing is canceled yet
            await pilot.pause(0.3)
            assert run.get_status() == "Running"
            await pilot.press("c")
            await _until(pilot, lambda: _cells(_table(app, "#steps"))[0][1] == "Canceled")
    asyncio.run(scenario())
    assert run.get_status() == "Canceled"


def test_amlocal_ui_starts_and_quits_in_a_real_terminal(sample_workspace, tmp_path):
    import subprocess
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true needs tmux for the real-terminal smoke test")
        pytest.skip("tmux is not installed")
    session = f"amlocal-ui-{os.getpid()}"
    tmux = ["tmux", "-L", session]  # a server of its own: no other session's size or options
    # the short sleep lets tmux settle the window size before the app asks for it
    command = (f"sleep 0.5; cd {tmp_path} && AMLOCAL_HOME={sample_workspace.root} PYTHONPATH={REPO} "
               f"{os.sys.executable} -m tui.cli ui; echo EXITED $?; sleep 30")
    subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "160",
                    "-y", "40", command], check=True)
    subprocess.run([*tmux, "resize-window", "-t", session, "-x", "160", "-y", "40"],
                   capture_output=True)

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                              text=True).stdout
    try:
        deadline = time.monotonic() + 60
        while "compare_models" not in screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "compare_models" in screen() and "PIPELINE" in screen(), screen()
        subprocess.run([*tmux, "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 15
        while "EXITED" not in screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "EXITED 0" in screen()
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_compare_marked_runs_shows_only_the_differing_parameters_across_experiments(sample_workspace):
    from runner.client import Client, SubmitOptions
    from runner.spec import PipelineSpec
    from store.catalog import get_pipeline
    from store.runs import get_pipeline_run, list_pipeline_runs
    from store.workspace import open_workspace
    with open_workspace(sample_workspace) as local:
        first = list_pipeline_runs(local.conn)[0]
        spec = PipelineSpec.from_json(get_pipeline(local.conn, first.pipeline_id).spec)
        second = Client(local).submit(spec, SubmitOptions(
            "other-experiment", "compare_models", parameters={"test_fraction": 0.3},
            source_folder=sample_workspace.root.parent)).run_id
        deadline = time.monotonic() + 60
        while get_pipeline_run(local.conn, second).status != "Finished":
            assert time.monotonic() < deadline, get_pipeline_run(local.conn, second).error
            time.sleep(0.1)

    async def scenario():
        app = DashboardApp(sample_workspace)
        async with app.run_test(size=(180, 50)) as pilot:
            await _open_runs(app, pilot, 2)
            await pilot.press("space", "down", "space")
            assert [r[0][0] for r in _cells(_table(app))] == ["●", "●"]
            await pilot.press("d")
            from tui.dashboard.compare_screen import CompareScreen
            table = lambda: app.screen.query_one("#comparison", KeyedTable)  # noqa: E731
            await _until(pilot, lambda: isinstance(app.screen, CompareScreen) and table().row_count > 0)
            facts = [str(table().get_row_at(i)[0]) for i in range(table().row_count)]
            assert "parameter test_fraction" in facts and "experiment" in facts
            assert "status" not in facts  # the same in both: hidden by default
            assert all(not f.startswith("parameter ") or f == "parameter test_fraction" for f in facts)
            await pilot.press("a")
            facts = [str(table().get_row_at(i)[0]) for i in range(table().row_count)]
            assert "status" in facts
    asyncio.run(scenario())


def test_screen_actions_are_in_the_command_palette_and_r_reruns_the_latest_run(sample_workspace):
    async def scenario():
        app = DashboardApp(sample_workspace)
        async with app.run_test(size=(180, 50)) as pilot:
            await _until(pilot, lambda: _table(app).row_count == 1)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert {"Runs", "Rerun latest", "Keys", "Quit"} <= set(titles)
            await pilot.press("r")  # on the pipelines screen: rerun its latest run
            await _until(pilot, lambda: _cells(_table(app))[0][4] == "2")
    asyncio.run(scenario())


def test_slash_filters_runs_and_searches_a_steps_log(sample_workspace):
    async def scenario():
        app = DashboardApp(sample_workspace)
        async with app.run_test(size=(180, 50)) as pilot:
            await _open_runs(app, pilot, 1)
            await pilot.press("slash", *"Failed")
            await _until(pilot, lambda: _table(app).row_count == 0)
            await pilot.press("escape")
            await _until(pilot, lambda: _table(app).row_count == 1)
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, RunScreen) and _table(app, "#steps").row_count == 4)
            await pilot.press("down", "down")  # train_linear
            log = app.screen.query_one("#log", Log)
            await _until(pilot, lambda: any(line.startswith("linear: rmse=") for line in log.lines))
            await pilot.press("slash", *"weights")
            await _until(pilot, lambda: log.lines and all("weights" in line for line in log.lines))
    asyncio.run(scenario())



@pytest.mark.docker
def test_a_running_containers_cpu_and_memory_are_shown(docker_workspace, write, tmp_path):
    from runner.sdk import Experiment, Pipeline, PythonScriptStep
    write("steps/busy.py", """
        import time
        block = bytearray(64 * 2**20)  # hold 64 MiB, every page written (so resident) ...
        def touch():
            for page in range(0, len(block), 4096):
                block[page] = 1
        touch()
        print("up", flush=True)
        end = time.time() + 120
        while time.time() < end:  # ... and kept written: proactive reclaim pages out cold ones
            touch()
    """)
    step = PythonScriptStep("busy.py", name="busy", source_directory=str(tmp_path / "steps"))
    run = Experiment(docker_workspace, "usage").submit(Pipeline(docker_workspace, [step]))

    async def scenario():
        app = DashboardApp(docker_workspace._local.layout)
        async with app.run_test(size=(180, 50)) as pilot:
            app.push_screen(RunScreen(run.id))
            await _until(pilot, lambda: "up" in app.screen.query_one("#log", Log).lines, timeout=60)
            usage = app.screen.query_one("#usage")
            await _until(pilot, lambda: "memory" in _rendered(app, usage))
            memory = int(_rendered(app, usage).split("memory ")[1].split(" MiB")[0])
            assert memory >= 64  # the container's own usage, from the engine
            await pilot.press("c", "c")  # the first asks, the second cancels
            await _until(pilot, lambda: _cells(_table(app, "#steps"))[0][1] == "Canceled", timeout=30)
    asyncio.run(scenario())


def test_w_watches_a_pipeline_and_a_save_reruns_it_live(sample_workspace):
    steps = sample_workspace.root.parent / "compare_models" / "steps"

    async def scenario():
        app = DashboardApp(sample_workspace)
        async with app.run_test(size=(180, 50)) as pilot:
            await _until(pilot, lambda: _table(app).row_count == 1)
            await pilot.press("w")
            await _until(pilot, lambda: _cells(_table(app))[0][6] == "● watching")
            events = app.screen.query_one("#watch-events", Log)
            await _until(pilot, lambda: any("watching" in line and "folder" in line for line in events.lines))
            compare = steps / "compare" / "compare.py"
            compare.write_text(compare.read_text() + "\n# edited\n")
            # each sample step has its own source directory: only compare is invalidated
            await _until(pilot, lambda: any("compare.py changed → compare rerun" in line
                                            for line in events.lines))
            await _until(pilot, lambda: _cells(_table(app))[0][4] == "2", timeout=30)
            await _until(pilot, lambda: _cells(_table(app))[0][1] == "Finished", timeout=30)
            from store.runs import list_pipeline_runs
            from store.workspace import open_workspace
            with open_workspace(sample_workspace) as local:
                rerun_by_watch = list_pipeline_runs(local.conn)[0]
            assert rerun_by_watch.runner_pid != os.getpid()  # its own runner, not the UI
            await pilot.press("w")
            await _until(pilot, lambda: _cells(_table(app))[0][6] == "")
            assert app.watchers == {}
    asyncio.run(scenario())


def test_a_keyed_table_keeps_rows_that_arrive_before_it_is_mounted():
    from textual.app import App

    class Early(App):
        def compose(self):
            table = KeyedTable([("name", "NAME"), ("value", "VALUE")])
            table.sync([("a", ("a-long-name", "1"))])  # a worker's data, faster than the mount
            yield table

    async def scenario():
        app = Early()
        async with app.run_test(size=(80, 10)) as pilot:
            await pilot.pause()
            table = app.query_one(KeyedTable)
            assert _cells(table) == [["a-long-name", "1"]]
            first_column = next(iter(table.columns.values()))
            assert first_column.get_render_width(table) >= len("a-long-name")  # not cut short
    asyncio.run(scenario())


def test_a_row_painted_before_its_columns_grew_is_painted_again_uncut():
    """The real-terminal flake: a paint between adding a row and measuring it used to leave
    the row cut at the old column widths ("compare_" for "compare_models") for good."""
    from textual.app import App

    class Table(App):
        def compose(self):
            yield KeyedTable([("name", "NAME"), ("value", "VALUE")])

    async def scenario():
        app = Table()
        async with app.run_test(size=(80, 10)) as pilot:
            await pilot.pause()
            table = app.query_one(KeyedTable)
            table.sync([("a", ("compare_models", "1"))])
            assert "compare_models" not in table.render_line(1).text  # painted before measuring
            await pilot.pause()
            assert "compare_models" in table.render_line(1).text
    asyncio.run(scenario())


def test_an_action_that_fails_says_why_and_the_dashboard_goes_on(sample_workspace, monkeypatch):
    """With `executor docker` and no engine answering, `r` used to kill the dashboard; now
    the user reads why in a notification, and the screen keeps working."""
    from store.settings import write_setting
    monkeypatch.delenv("AMLOCAL_EXECUTOR")
    write_setting(sample_workspace, "executor", "docker")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setattr("runner.executors.docker_engine._client", None)

    async def scenario():
        app = DashboardApp(sample_workspace)
        async with app.run_test(size=(180, 50)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, PipelinesScreen) and _table(app).row_count == 1)
            await pilot.press("r")
            await _until(pilot, lambda: len(app._notifications) > 0)
            (note,) = list(app._notifications)
            assert note.severity == "error" and note.title == "could not do that"
            assert note.message.startswith("ExecutorChoiceError: executor docker was asked for "
                                           "(workspace setting), but no Docker engine answered")
            await pilot.press("enter")  # still alive: the runs open
            await _until(pilot, lambda: isinstance(app.screen, RunsScreen) and _table(app).row_count == 1)
    asyncio.run(scenario())


def test_escape_bytes_and_markup_from_a_step_are_shown_as_text_never_as_styles_or_control(
        workspace, write, tmp_path):
    """What a step prints, names and raises reaches the screen as literal text: ESC is shown
    as \\x1b, and "[red]" or a stray "[/]" stays as typed (no restyling, no markup error)."""
    from runner.sdk import Experiment, Pipeline, PythonScriptStep
    write("steps/evil.py", """
        from azureml.core import Run
        run = Run.get_context()
        print("\\x1b[2J\\x1b]0;pwned\\x07[red]loud[/]", flush=True)
        run.log("\\x1b[31mrisk[/]", 1)
        raise SystemExit("bad [/] end \\x1b[5m")
    """)
    step = PythonScriptStep("evil.py", name="evil", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "evil").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        async with app.run_test(size=(180, 50)) as pilot:
            await _open_run(app, pilot, run.id)
            log = app.screen.query_one("#log", Log)
            await _until(pilot, lambda: bool(log.lines))
            assert log.lines[0] == "\\x1b[2J\\x1b]0;pwned\\x07[red]loud[/]"
            note = _cells(_table(app, "#steps"))[0][5]
            assert note == "exit code 1: bad [/] end \\x1b[5m"
            await pilot.press("2")
            await _until(pilot, lambda: _table(app, "#metric-table").row_count == 1)
            assert _cells(_table(app, "#metric-table"))[0][0] == "\\x1b[31mrisk[/]"
            await pilot.press("4")
            details = app.screen.query_one("#step-details")
            await _until(pilot, lambda: "bad [/] end \\x1b[5m" in _rendered(app, details))
    asyncio.run(scenario())
