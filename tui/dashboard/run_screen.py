"""One run: its header, its steps, and for the highlighted step its logs, metrics and details."""
from __future__ import annotations

import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent

from runner.engine.progress import LogTail
from runner.executors.base import Executor
from runner.executors.registry import make_executor
from tui.dashboard.actions import perform
from tui.dashboard.dag_view import DagStep, DagView
from tui.dashboard.filter_input import FilterInput
from tui.dashboard.keyed_table import STATUS_STYLE, KeyedTable, literal, status_text
from tui.dashboard.live_screen import LiveScreen
from tui.dashboard.messages import DagStepHighlighted, LogLines, StepFactsLoaded
from tui.dashboard.queries import RunDetail, Store
from tui.dashboard.resubmit_dialog import ask_resubmit
from tui.dashboard.step_tabs import DetailsTab, LogsTab, MetricsTab, OutputsTab
from store.layout import StepRunFiles

TAIL_SECONDS = 0.3
CONFIRM_SECONDS = 3.0  # how long a first `c` waits for the second that cancels


def open_debug_shell(run_id: str, step_name: str) -> int:
    """`amlocal debug RUN STEP` on this terminal (the dashboard suspended); its exit status.
    When it fails it waits for Enter, so that its one-line error can be read."""
    import subprocess
    import sys
    print(f"amlocal: a shell in step {step_name} of run {run_id[:8]}; exit it to return to "
          "the dashboard", flush=True)
    code = subprocess.run([sys.executable, "-m", "tui.cli", "debug", run_id, step_name]).returncode
    if code != 0:
        print(f"amlocal debug ended with exit status {code}; press Enter to return", flush=True)
        try:
            sys.stdin.readline()
        except (OSError, KeyboardInterrupt):
            pass
    return code


class RunScreen(LiveScreen):
    """A run's steps; 1-4 pick a tab, `d` shows them as a graph (and back), `f` toggles
    following the log, `r`/`R` rerun, `c` cancels, `s` opens a shell in the highlighted step's
    environment (`amlocal debug`)."""

    DEFAULT_CSS = """
    RunScreen #header { height: auto; padding: 0 1; background: $boost; }
    RunScreen #steps { height: 10; max-height: 30%; }
    RunScreen #dag { display: none; height: 10; max-height: 30%; }
    RunScreen.dag #dag { display: block; }
    RunScreen.dag #steps { display: none; }
    RunScreen TabbedContent { height: 1fr; }
    RunScreen #metric-top { height: 1fr; min-height: 7; }
    RunScreen #metric-table { width: 2fr; max-width: 48; height: 1fr; }
    RunScreen #metric-plot { width: 3fr; }
    RunScreen #series { height: 1; padding: 0 1; }
    RunScreen PlotextPlot { height: 1fr; }
    RunScreen #metric-tables { height: auto; }
    """
    BINDINGS = [Binding("f", "follow", "Follow log"), Binding("slash", "search", "Search log"),
                Binding("r", "rerun", "Rerun"),
                Binding("R", "regenerate", "Rerun, regenerate"), Binding("c", "cancel", "Cancel"),
                Binding("p", "resubmit", "Resubmit with parameters", show=False),
                Binding("n", "next_failure", "Next failed step"),
                Binding("N", "previous_failure", "Previous failed step", show=False),
                Binding("y", "copy_id", "Copy run id"),
                Binding("d", "toggle_dag", "Graph / table"),
                Binding("right_square_bracket", "series(1)", "Plot series", key_display="[ ]"),
                Binding("left_square_bracket", "series(-1)", "Previous series", show=False),
                Binding("s", "debug_step", "Shell in the step (amlocal debug)", show=False),
                Binding("escape", "app.pop_screen", "Back"),
                Binding("1", "show_tab('logs')", "Logs tab", show=False),
                Binding("2", "show_tab('metrics')", "Metrics tab", show=False),
                Binding("3", "show_tab('outputs')", "Outputs tab", show=False),
                Binding("4", "show_tab('details')", "Details tab", show=False)]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.detail: RunDetail | None = None
        self.step_id: str | None = None
        self._tails: tuple[LogTail, ...] | None = None
        self._executors: dict[str, Executor] = {}  # by name: they keep the previous CPU sample
        self.search = ""
        self._cancel_asked = 0.0  # when `c` was pressed once (cancel waits for a second press)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="header")
        yield KeyedTable([("name", "STEP"), ("status", "STATUS"), ("duration", "DURATION"),
                          ("executor", "EXECUTOR"), ("phases", "PHASES"), ("note", "REUSE / ERROR")],
                         id="steps")
        yield DagView(id="dag")
        with TabbedContent(initial="logs"):
            yield LogsTab()
            yield MetricsTab()
            yield OutputsTab()
            yield DetailsTab()
        yield FilterInput(placeholder="show only log lines containing…")
        yield Footer()

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", f"run {self.run_id[:8]}"
        super().on_mount()
        self.set_interval(TAIL_SECONDS, self.tail)

    def action_show_tab(self, tab: str) -> None:
        """1-4 switch the highlighted step's tabs without leaving the steps table."""
        self.query_one(TabbedContent).active = tab

    def action_series(self, step: int) -> None:
        """`]`/`[` plot the highlighted step's next/previous series (on the Metrics tab)."""
        self.query_one(TabbedContent).active = "metrics"
        if self.query_one(MetricsTab).cycle(step) is None:
            self.notify("this step has no series to plot")

    def fetch(self) -> RunDetail:
        store = self.dashboard.store
        if self.step_id is not None:
            step_id = self.step_id
            self.post_message(StepFactsLoaded(step_id, store.step_metrics(step_id),
                                              store.step_details(step_id), store.step_outputs(step_id),
                                              self._usage(store, step_id)))
        return store.run_detail(self.run_id)

    def _usage(self, store: Store, step_id: str) -> str:
        """Live CPU and memory of the step while it runs (empty otherwise)."""
        step = store.step_record(step_id)
        if step is None or step.status != "Running" or not step.executor:
            return ""
        if step.executor not in self._executors:
            self._executors[step.executor] = make_executor(step.executor, store.layout, may_build=False)
        usage = self._executors[step.executor].usage(step)
        return f"CPU {usage.cpu_percent:.0f}%  memory {usage.memory_mib:.0f} MiB" if usage else ""

    def show(self, detail: RunDetail) -> None:
        d = self.detail = detail
        self.query_one("#header", Static).update(
            f"[b]{literal(d.id)}[/b]  [{STATUS_STYLE.get(d.status, 'default')}]{d.status}[/]  "
            + literal(f"experiment {d.experiment}  started {d.started}  took {d.duration}\n"
                      f"git {d.commit}  executor {d.executor}  parameters {d.parameters}")
            + (f"\n[red]{literal(d.error)}[/red]" if d.error else ""))
        table = self.query_one("#steps", KeyedTable)
        table.sync((s.id, (s.name, status_text(s.status), s.duration, s.executor, s.phases, s.note))
                   for s in d.steps)
        if self.step_id is None and d.steps:
            failed = [s.id for s in d.steps if s.status == "Failed"]
            if failed:  # a failed run opens on its first failed step
                table.move_cursor(row=table.get_row_index(failed[0]), animate=False)
            self._select(table.current_key)
        self._show_dag()

    def _show_dag(self) -> None:
        """Draw the graph view again: the steps' live status, the selected step under its cursor."""
        if self.detail is None:
            return
        upstream = dict(self.detail.upstream)
        self.query_one(DagView).show_steps(
            [DagStep(s.id, s.name, s.status, upstream.get(s.id, ())) for s in self.detail.steps],
            self.step_id)

    def action_toggle_dag(self) -> None:
        """`d` shows the steps as a graph instead of the table, and back; the selection stays."""
        self.toggle_class("dag")
        if self.has_class("dag"):
            self._show_dag()
            self.query_one(DagView).focus()
        else:
            table = self.query_one("#steps", KeyedTable)
            if self.step_id is not None and self.step_id in table.rows:
                table.move_cursor(row=table.get_row_index(self.step_id), animate=False)
            table.focus()

    def on_dag_step_highlighted(self, message: DagStepHighlighted) -> None:
        """A step picked in the graph is selected for the tabs, as a table row is."""
        table = self.query_one("#steps", KeyedTable)
        if message.step_id in table.rows:
            table.move_cursor(row=table.get_row_index(message.step_id), animate=False)
        self._select(message.step_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "steps" and event.row_key is not None:
            self._select(event.row_key.value)

    def _select(self, step_id: str | None) -> None:
        if step_id is None or step_id == self.step_id or self.detail is None:
            return
        if not any(s.id == step_id for s in self.detail.steps):
            return
        self.step_id = step_id
        self._show_dag()
        self._restart_log()
        self.load()

    def _restart_log(self) -> None:
        """Read the highlighted step's log again from the start (new step, or a new search)."""
        step = next((s for s in self.detail.steps if s.id == self.step_id), None) if self.detail else None
        if step is None:
            return
        folder, note = self.dashboard.store.log_source(step.id)
        files = StepRunFiles(Path(folder or step.run_dir))
        # the preparation (limits, image build) log first, then what the step printed
        self._tails = (LogTail(files.preparation), LogTail(files.stdout), LogTail(files.stderr))
        self.query_one(LogsTab).clear()
        if note:
            self.query_one(LogsTab).append([note])

    @work(thread=True, exclusive=True, group="tail", exit_on_error=False)
    def tail(self) -> None:
        tails, step_id = self._tails, self.step_id
        if tails is None or step_id is None:
            return
        lines = [line for t in tails for line in t.read_lines()]
        if self.search:
            lines = [line for line in lines if self.search.lower() in line.lower()]
        if lines:
            self.post_message(LogLines(step_id, lines))

    def on_log_lines(self, message: LogLines) -> None:
        if message.step_id == self.step_id:
            self.query_one(LogsTab).append(message.lines)

    def on_step_facts_loaded(self, message: StepFactsLoaded) -> None:
        if message.step_id != self.step_id:
            return
        self.query_one(MetricsTab).show(message.metrics)
        self.query_one(OutputsTab).show(message.outputs)
        self.query_one(DetailsTab).show(message.details, message.usage)

    def action_search(self) -> None:
        self.query_one(FilterInput).open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        self.search = event.value
        self._restart_log()

    def action_follow(self) -> None:
        following = self.query_one(LogsTab).toggle_follow()
        self.notify("following the log" if following else "not following the log")

    def action_rerun(self) -> None:
        self.act(lambda: perform(self.dashboard.store.layout, self.run_id, "rerun"))

    def action_regenerate(self) -> None:
        self.act(lambda: perform(self.dashboard.store.layout, self.run_id, "regenerate"))

    def action_resubmit(self) -> None:
        ask_resubmit(self, self.run_id)

    def action_cancel(self) -> None:
        """`c` asks first; `c` again within CONFIRM_SECONDS cancels the run."""
        now = time.monotonic()
        if now - self._cancel_asked > CONFIRM_SECONDS:
            self._cancel_asked = now
            self.notify(f"press c again to cancel run {self.run_id[:8]}", title="cancel?")
            return
        self._cancel_asked = 0.0
        self.act(lambda: perform(self.dashboard.store.layout, self.run_id, "cancel"))

    def _jump_failure(self, step: int) -> None:
        """Move to the next (`step` 1) or previous (-1) failed step, wrapping around."""
        if self.detail is None:
            return
        ids = [s.id for s in self.detail.steps]
        failed = [i for i, s in enumerate(self.detail.steps) if s.status == "Failed"]
        if not failed:
            self.notify("no step failed")
            return
        table = self.query_one("#steps", KeyedTable)
        here = ids.index(table.current_key) if table.current_key in ids else -1
        ahead = [i for i in failed if (i - here) * step > 0]
        target = (ahead[0] if step > 0 else ahead[-1]) if ahead else (failed[0] if step > 0 else failed[-1])
        table.move_cursor(row=target, animate=False)
        self._select(ids[target])

    def action_next_failure(self) -> None:
        self._jump_failure(1)

    def action_previous_failure(self) -> None:
        self._jump_failure(-1)

    def action_debug_step(self) -> None:
        """`s`: a shell in the highlighted step's exact environment (`amlocal debug`), the
        dashboard suspended until it exits."""
        from textual.app import SuspendNotSupported
        step = next((s for s in self.detail.steps if s.id == self.step_id), None) \
            if self.detail else None
        if step is None:
            self.notify("no step highlighted")
            return
        try:
            with self.app.suspend():
                code = open_debug_shell(self.run_id, step.name)
        except SuspendNotSupported:
            self.notify(f"this terminal cannot hand over to a shell: run `amlocal debug "
                        f"{self.run_id[:8]} {step.name}`", severity="warning")
            return
        self.refresh()
        if code != 0:
            self.notify(f"amlocal debug {self.run_id[:8]} {step.name}: exit status {code}",
                        severity="warning")

    def action_copy_id(self) -> None:
        """`y` puts the run id on the terminal's clipboard (OSC 52)."""
        self.app.copy_to_clipboard(self.run_id)
        self.notify(f"copied {self.run_id}")
