"""The first screen: one row per pipeline, its last run and the trend of its durations."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Log

from tui.dashboard.actions import perform
from tui.dashboard.keyed_table import KeyedTable, status_text
from tui.dashboard.live_screen import LiveScreen
from tui.dashboard.messages import WatchEvent
from tui.dashboard.queries import PipelineRow


class PipelinesScreen(LiveScreen):
    """Pipelines: `enter` opens a pipeline's runs, `r` reruns its latest run, `a` opens the
    registries (datasets, models, environments), `p` the published pipelines, endpoints and
    schedules."""

    DEFAULT_CSS = """
    PipelinesScreen KeyedTable { height: 1fr; }
    PipelinesScreen #watch-events { height: 8; border-top: solid $accent; display: none; }
    PipelinesScreen #watch-events.-active { display: block; }
    """
    BINDINGS = [Binding("enter", "open", "Runs"), Binding("r", "rerun", "Rerun latest"),
                Binding("w", "watch", "Watch / stop watching"),
                Binding("a", "registries", "Registries"),
                Binding("p", "published", "Published")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield KeyedTable([("name", "PIPELINE"), ("status", "LAST STATUS"), ("started", "STARTED"),
                          ("duration", "DURATION"), ("runs", "RUNS"), ("trend", "RECENT DURATIONS"),
                          ("watch", "WATCH")],
                         id="pipelines")
        yield Log(id="watch-events", max_lines=200)
        yield Footer()

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", "pipelines"
        self.rows: dict[str, PipelineRow] = {}
        super().on_mount()

    def fetch(self) -> list[PipelineRow]:
        return self.dashboard.store.pipelines()

    def show(self, rows: list[PipelineRow]) -> None:
        self.rows = {row.name: row for row in rows}
        watched = self.dashboard.watchers
        self.query_one(KeyedTable).sync(
            (r.name, (r.name, status_text(r.last_status), r.last_started, r.last_duration,
                      str(r.runs), r.trend, "● watching" if r.name in watched else ""))
            for r in rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        from tui.dashboard.runs_screen import RunsScreen
        key = self.query_one(KeyedTable).current_key
        if key is not None:
            self.app.push_screen(RunsScreen(key))

    def action_registries(self) -> None:
        from tui.dashboard.registry_screen import RegistryScreen
        self.app.push_screen(RegistryScreen())

    def action_published(self) -> None:
        from tui.dashboard.published_screen import PublishedScreen
        self.app.push_screen(PublishedScreen())

    def action_rerun(self) -> None:
        key = self.query_one(KeyedTable).current_key
        if key is not None:
            run_id = self.rows[key].latest_run_id
            self.act(lambda: perform(self.dashboard.store.layout, run_id, "rerun"))

    def action_watch(self) -> None:
        key = self.query_one(KeyedTable).current_key
        if key is None:
            return
        watching = self.dashboard.toggle_watch(key, self.rows[key].latest_run_id)
        self.query_one("#watch-events", Log).add_class("-active")
        self.add_watch_event(WatchEvent(key, "watch started" if watching else "watch stopped"))
        self.load()

    def add_watch_event(self, event: WatchEvent) -> None:
        """One line in the panel of recent watch events."""
        panel = self.query_one("#watch-events", Log)
        panel.add_class("-active")
        panel.write_line(f"{event.at}  {event.pipeline}: {event.text}")
