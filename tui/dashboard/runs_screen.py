"""A pipeline's runs: open, rerun (or regenerate), cancel."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header

from tui.dashboard.actions import perform
from tui.dashboard.filter_input import FilterInput
from tui.dashboard.keyed_table import KeyedTable, status_text
from tui.dashboard.live_screen import LiveScreen
from tui.dashboard.queries import RunRow
from tui.dashboard.resubmit_dialog import ask_resubmit


class RunsScreen(LiveScreen):
    """The runs of one pipeline, newest first."""

    DEFAULT_CSS = """
    RunsScreen KeyedTable { height: 1fr; }
    """
    BINDINGS = [Binding("enter", "open", "Open"), Binding("r", "rerun", "Rerun"),
                Binding("R", "regenerate", "Rerun, regenerate outputs"),
                Binding("p", "resubmit", "Resubmit with parameters", show=False),
                Binding("c", "cancel", "Cancel"), Binding("space", "mark", "Mark"),
                Binding("d", "compare", "Compare marked"), Binding("slash", "filter", "Filter"),
                Binding("m", "next_metric", "Headline metric"),
                Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, pipeline_name: str) -> None:
        super().__init__()
        self.pipeline_name = pipeline_name
        self.marked: list[str] = []
        self.rows: list[RunRow] = []
        self.filter_text = ""
        self.headline: str | None = None  # which of the runs' own metrics the last column shows

    def compose(self) -> ComposeResult:
        yield Header()
        yield KeyedTable([("id", "RUN"), ("status", "STATUS"), ("started", "STARTED"),
                          ("duration", "DURATION"), ("commit", "GIT"), ("parameters", "PARAMETERS"),
                          ("reused", "REUSED"), ("experiment", "EXPERIMENT"), ("metric", "METRIC")],
                         id="runs")
        yield FilterInput(placeholder="filter runs: id, status, git, parameters, experiment")
        yield Footer()

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", f"runs of {self.pipeline_name}"
        super().on_mount()

    def fetch(self) -> list[RunRow]:
        return self.dashboard.store.runs(self.pipeline_name)

    def show(self, rows: list[RunRow]) -> None:
        self.rows = rows
        self._show()

    def _metric_names(self) -> list[str]:
        return sorted({name for r in self.rows for name, _ in r.metrics})

    def _show(self) -> None:
        names = self._metric_names()
        if self.headline not in names:
            self.headline = names[0] if names else None
        wanted = self.filter_text.lower()
        self.query_one(KeyedTable).sync(
            (r.id, (("● " if r.id in self.marked else "  ") + r.id[:8], status_text(r.status),
                    r.started, r.duration, r.commit, r.parameters, r.reused, r.experiment,
                    f"{self.headline}={dict(r.metrics)[self.headline]}"
                    if self.headline in dict(r.metrics) else "-"))
            for r in self.rows
            if not wanted or wanted in " ".join((r.id, r.status, r.commit, r.parameters, r.experiment)).lower())

    def action_next_metric(self) -> None:
        names = self._metric_names()
        if names:
            self.headline = names[(names.index(self.headline) + 1) % len(names)] \
                if self.headline in names else names[0]
            self._show()

    def action_filter(self) -> None:
        self.query_one(FilterInput).open()

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        self.filter_text = event.value
        self._show()

    def action_mark(self) -> None:
        if (run_id := self._current()) is not None:
            if run_id in self.marked:
                self.marked.remove(run_id)
            else:
                self.marked.append(run_id)
            self._show()

    def action_compare(self) -> None:
        from tui.dashboard.compare_screen import CompareScreen
        if len(self.marked) < 2:
            self.notify("mark two or more runs with space first", severity="warning")
            return
        self.app.push_screen(CompareScreen(list(self.marked)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def _current(self) -> str | None:
        return self.query_one(KeyedTable).current_key

    def action_open(self) -> None:
        from tui.dashboard.run_screen import RunScreen
        if (run_id := self._current()) is not None:
            self.app.push_screen(RunScreen(run_id))

    def action_rerun(self) -> None:
        self._perform("rerun")

    def action_regenerate(self) -> None:
        self._perform("regenerate")

    def action_cancel(self) -> None:
        self._perform("cancel")

    def action_resubmit(self) -> None:
        if (run_id := self._current()) is not None:
            ask_resubmit(self, run_id)

    def _perform(self, what: str) -> None:
        if (run_id := self._current()) is not None:
            self.act(lambda: perform(self.dashboard.store.layout, run_id, what))
