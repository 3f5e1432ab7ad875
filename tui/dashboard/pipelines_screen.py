"""The first screen: one row per pipeline, its last run and the trend of its durations."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from tui.dashboard.actions import rerun_run
from tui.dashboard.keyed_table import KeyedTable, status_text
from tui.dashboard.queries import PipelineRow

REFRESH_SECONDS = 1.0


class PipelinesLoaded(Message):
    """Fresh pipeline rows from a worker."""

    def __init__(self, rows: list[PipelineRow]) -> None:
        super().__init__()
        self.rows = rows


class PipelinesScreen(Screen):
    """Pipelines: `enter` opens a pipeline's runs, `r` reruns its latest run."""

    DEFAULT_CSS = """
    PipelinesScreen KeyedTable { height: 1fr; }
    """
    BINDINGS = [Binding("enter", "open", "Runs"), Binding("r", "rerun", "Rerun latest")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield KeyedTable([("name", "PIPELINE"), ("status", "LAST STATUS"), ("started", "STARTED"),
                          ("duration", "DURATION"), ("runs", "RUNS"), ("trend", "RECENT DURATIONS")],
                         id="pipelines")
        yield Footer()

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", "pipelines"
        self.rows: dict[str, PipelineRow] = {}
        self.load()
        self.set_interval(REFRESH_SECONDS, self.load)

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        self.post_message(PipelinesLoaded(self.app.store.pipelines()))

    def on_pipelines_loaded(self, message: PipelinesLoaded) -> None:
        self.rows = {row.name: row for row in message.rows}
        self.query_one(KeyedTable).sync(
            (r.name, (r.name, status_text(r.last_status), r.last_started, r.last_duration,
                      str(r.runs), r.trend)) for r in message.rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        from tui.dashboard.runs_screen import RunsScreen
        key = self.query_one(KeyedTable).current_key
        if key is not None:
            self.app.push_screen(RunsScreen(key))

    def action_rerun(self) -> None:
        key = self.query_one(KeyedTable).current_key
        if key is not None:
            self.start_rerun(self.rows[key].latest_run_id)

    @work(thread=True, group="actions")
    def start_rerun(self, run_id: str) -> None:
        new_id = rerun_run(self.app.store.layout, run_id, regenerate=False)
        self.app.call_from_thread(self.app.notify, f"started run {new_id[:8]}")
