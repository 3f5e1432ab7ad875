"""One run: its header, its steps, and for the highlighted step its logs, metrics and details."""
from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Log, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from runner.engine.progress import LogTail
from runner.executors import Executor, make_executor
from tui.dashboard.actions import perform
from tui.dashboard.filter_input import FilterInput
from tui.dashboard.keyed_table import STATUS_STYLE, KeyedTable, status_text
from tui.dashboard.queries import RunDetail
from tui.formatting import short_value

REFRESH_SECONDS = 1.0
TAIL_SECONDS = 0.3


class DetailLoaded(Message):
    def __init__(self, detail: RunDetail) -> None:
        super().__init__()
        self.detail = detail


class LogLines(Message):
    def __init__(self, step_id: str, lines: list[str]) -> None:
        super().__init__()
        self.step_id = step_id
        self.lines = lines


class StepFacts(Message):
    def __init__(self, step_id: str, metrics: list, details: str, outputs: list, usage: str) -> None:
        super().__init__()
        self.step_id = step_id
        self.metrics = metrics
        self.details = details
        self.outputs = outputs
        self.usage = usage


def metric_tables(metrics: list) -> Group:
    """log_row and log_table metrics as tables, log_image metrics as their file paths."""
    parts: list = []
    for name, kind, _, _, values in metrics:
        if kind == "row":
            rows = [v for v in values if isinstance(v, dict)]
        elif kind == "table" and values and isinstance(values[-1], dict):
            columns = values[-1]
            rows = [dict(zip(columns, cells)) for cells in zip(*columns.values())]
        elif kind == "image":
            parts.append(f"{name}: {values[-1] if values else '-'}")
            continue
        else:
            continue
        table = Table(title=name, title_justify="left")
        headers = list(dict.fromkeys(k for row in rows for k in row))
        for header in headers:
            table.add_column(header)
        for row in rows:
            table.add_row(*(short_value(row.get(h, ""), 20) for h in headers))
        parts.append(table)
    return Group(*parts)


class RunScreen(Screen):
    """A run's steps; 1-4 pick a tab, `f` toggles following the log, `r`/`R` rerun, `c` cancels."""

    DEFAULT_CSS = """
    RunScreen #header { height: auto; padding: 0 1; background: $boost; }
    RunScreen #steps { height: 10; }
    RunScreen TabbedContent { height: 1fr; }
    RunScreen #metric-table { height: 8; }
    RunScreen PlotextPlot { height: 1fr; min-height: 8; }
    RunScreen #metric-tables { height: auto; }
    """
    BINDINGS = [Binding("f", "follow", "Follow log"), Binding("slash", "search", "Search log"),
                Binding("r", "rerun", "Rerun"),
                Binding("R", "regenerate", "Rerun, regenerate"), Binding("c", "cancel", "Cancel"),
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
        self._tails: tuple[LogTail, LogTail] | None = None
        self._executors: dict[str, Executor] = {}  # by name: they keep the previous CPU sample
        self.search = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="header")
        yield KeyedTable([("name", "STEP"), ("status", "STATUS"), ("duration", "DURATION"),
                          ("executor", "EXECUTOR"), ("phases", "PHASES"), ("note", "REUSE / ERROR")],
                         id="steps")
        with TabbedContent(initial="logs"):
            with TabPane("Logs", id="logs"):
                yield Log(id="log", max_lines=20_000)
            with TabPane("Metrics", id="metrics"):
                yield KeyedTable([("name", "METRIC"), ("kind", "KIND"), ("value", "LATEST"),
                                  ("count", "VALUES")], id="metric-table")
                yield PlotextPlot(id="plot")
                yield Static("", id="metric-tables")
            with TabPane("Outputs", id="outputs"):
                yield KeyedTable([("name", "NAME"), ("kind", "KIND"), ("size", "SIZE"),
                                  ("where", "WHERE")], id="output-table")
            with TabPane("Details", id="details"):
                yield Static("", id="usage")
                yield Static("", id="step-details")
        yield FilterInput(placeholder="show only log lines containing…")
        yield Footer()

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", f"run {self.run_id[:8]}"
        self.load()
        self.set_interval(REFRESH_SECONDS, self.load)
        self.set_interval(TAIL_SECONDS, self.tail)

    def action_show_tab(self, tab: str) -> None:
        """1-4 switch the highlighted step's tabs without leaving the steps table."""
        self.query_one(TabbedContent).active = tab

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        store = self.app.store
        self.post_message(DetailLoaded(store.run_detail(self.run_id)))
        if self.step_id is not None:
            step_id = self.step_id
            self.post_message(StepFacts(step_id, store.step_metrics(step_id), store.step_details(step_id),
                                        store.step_outputs(step_id), self._usage(store, step_id)))

    def _usage(self, store, step_id: str) -> str:
        """Live CPU and memory of the step while it runs (empty otherwise)."""
        step = store.step_record(step_id)
        if step is None or step.status != "Running" or not step.executor:
            return ""
        if step.executor not in self._executors:
            self._executors[step.executor] = make_executor(step.executor, store.layout, may_build=False)
        usage = self._executors[step.executor].usage(step)
        return f"CPU {usage.cpu_percent:.0f}%  memory {usage.memory_mib:.0f} MiB" if usage else ""

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        d = self.detail = message.detail
        self.query_one("#header", Static).update(
            f"[b]{d.id}[/b]  [{STATUS_STYLE.get(d.status, 'default')}]{d.status}[/]  "
            f"experiment {d.experiment}  started {d.started}  "
            f"took {d.duration}\ngit {d.commit}  executor {d.executor}  parameters {d.parameters}"
            + (f"\n[red]{d.error}[/red]" if d.error else ""))
        table = self.query_one("#steps", KeyedTable)
        table.sync((s.id, (s.name, status_text(s.status), s.duration, s.executor, s.phases, s.note))
                   for s in d.steps)
        if self.step_id is None and d.steps:
            self._select(table.current_key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "steps" and event.row_key is not None:
            self._select(event.row_key.value)

    def _select(self, step_id: str | None) -> None:
        if step_id is None or step_id == self.step_id or self.detail is None:
            return
        step = next((s for s in self.detail.steps if s.id == step_id), None)
        if step is None:
            return
        self.step_id = step_id
        self._restart_log()
        self.load()

    def _restart_log(self) -> None:
        """Read the highlighted step's log again from the start (new step, or a new search)."""
        step = next((s for s in self.detail.steps if s.id == self.step_id), None) if self.detail else None
        if step is None:
            return
        folder = Path(step.run_dir)
        self._tails = (LogTail(folder / "stdout.txt"), LogTail(folder / "stderr.txt"))
        self.query_one("#log", Log).clear()

    @work(thread=True, exclusive=True, group="tail")
    def tail(self) -> None:
        tails, step_id = self._tails, self.step_id
        if tails is None or step_id is None:
            return
        lines = tails[0].read_lines() + tails[1].read_lines()
        if self.search:
            lines = [line for line in lines if self.search.lower() in line.lower()]
        if lines:
            self.post_message(LogLines(step_id, lines))

    def on_log_lines(self, message: LogLines) -> None:
        if message.step_id == self.step_id:
            self.query_one("#log", Log).write_lines(message.lines)

    def on_step_facts(self, message: StepFacts) -> None:
        if message.step_id != self.step_id:
            return
        self.query_one("#metric-table", KeyedTable).sync(
            (name, (name, kind, value, str(len(values))))
            for name, kind, value, _, values in message.metrics)
        self.query_one("#metric-tables", Static).update(metric_tables(message.metrics))
        self.query_one("#step-details", Static).update(message.details)
        self.query_one("#usage", Static).update(message.usage)
        self.query_one("#output-table", KeyedTable).sync((f"{kind}:{name}", (name, kind, size, where))
                                                         for name, kind, size, where in message.outputs)
        series = [(name, history) for name, _, _, history, _ in message.metrics if len(history) > 1]
        plot = self.query_one(PlotextPlot)
        plot.plt.clear_data()
        if series:
            name, history = series[0]
            plot.plt.plot(history, label=name)
            plot.plt.title(name)
        plot.refresh()

    def action_search(self) -> None:
        self.query_one(FilterInput).open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        self.search = event.value
        self._restart_log()

    def action_follow(self) -> None:
        log = self.query_one("#log", Log)
        log.auto_scroll = not log.auto_scroll
        self.notify("following the log" if log.auto_scroll else "not following the log")

    def action_rerun(self) -> None:
        self.act("rerun")

    def action_regenerate(self) -> None:
        self.act("regenerate")

    def action_cancel(self) -> None:
        self.act("cancel")

    @work(thread=True, group="actions")
    def act(self, what: str) -> None:
        self.app.call_from_thread(self.app.notify, perform(self.app.store.layout, self.run_id, what))
