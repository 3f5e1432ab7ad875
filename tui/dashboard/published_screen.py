"""Published pipelines, pipeline endpoints (versions, default) and schedules (status, next
fire, last run), updated live; `e` enables or disables the highlighted schedule, `t` runs
it now (as the service does when it fires)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from tui.dashboard.keyed_table import KeyedTable, plain, status_text
from tui.dashboard.live_screen import LiveScreen
from tui.dashboard.published_queries import (PublishedData, ScheduleRow, published_data,
                                             toggle_schedule, trigger_schedule)

NOTHING = "nothing published yet: call pipeline.publish(name) in a pipeline script"
NO_SCHEDULES = ("no schedules: Schedule.create(ws, name, pipeline_id, experiment_name, "
                "recurrence=ScheduleRecurrence(...)) or datastore=...")


class PublishedScreen(LiveScreen):
    """Three live tables; the schedule keys act on the highlighted row of the schedules."""

    DEFAULT_CSS = """
    PublishedScreen .section { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    PublishedScreen #published { height: 1fr; }
    PublishedScreen #endpoints { height: 1fr; }
    PublishedScreen #schedules { height: 1fr; }
    PublishedScreen #schedule-detail { height: auto; max-height: 3; padding: 0 1;
                                       border-top: solid $accent; }
    """
    BINDINGS = [Binding("e", "toggle_schedule", "Enable/disable"),
                Binding("t", "trigger", "Trigger now"),
                Binding("escape", "app.pop_screen", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.schedules: dict[str, ScheduleRow] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Published pipelines", classes="section")
        yield KeyedTable([("name", "PUBLISHED"), ("version", "VERSION"), ("status", "STATUS"),
                          ("published", "PUBLISHED AT"), ("endpoints", "ENDPOINTS"),
                          ("id", "ID")], id="published")
        yield Static("Pipeline endpoints", classes="section")
        yield KeyedTable([("name", "ENDPOINT"), ("status", "STATUS"), ("default", "DEFAULT"),
                          ("versions", "VERSIONS"), ("id", "ID")], id="endpoints")
        yield Static("Schedules", classes="section")
        yield KeyedTable([("name", "SCHEDULE"), ("status", "STATUS"), ("trigger", "WHEN"),
                          ("next", "NEXT FIRE"), ("last", "LAST RUN")], id="schedules")
        yield Static("loading…", id="schedule-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", "published pipelines, endpoints and schedules"
        self.query_one("#schedules", KeyedTable).focus()
        super().on_mount()

    def fetch(self) -> PublishedData:
        return published_data(self.dashboard.store)

    def show(self, data: PublishedData) -> None:
        self.query_one("#published", KeyedTable).sync(
            (p.id, (p.name, p.version, status_text(p.status), p.published, p.endpoints, p.id))
            for p in data.published)
        self.query_one("#endpoints", KeyedTable).sync(
            (e.id, (e.name, status_text(e.status), e.default, e.versions, e.id))
            for e in data.endpoints)
        self.schedules = {s.id: s for s in data.schedules}
        table = self.query_one("#schedules", KeyedTable)
        table.sync((s.id, (s.name, status_text(s.status), s.trigger, s.next_fire, s.last_run))
                   for s in data.schedules)
        if not data.published:
            self._detail(NOTHING)
        elif not data.schedules:
            self._detail(NO_SCHEDULES)
        else:
            self._show_detail(table.current_key)

    def _detail(self, text: str) -> None:
        self.query_one("#schedule-detail", Static).update(plain(text))

    def _show_detail(self, schedule_id: str | None) -> None:
        row = self.schedules.get(schedule_id) if schedule_id is not None else None
        if row is not None:
            self._detail(row.detail)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "schedules" and event.row_key is not None:
            self._show_detail(event.row_key.value)

    def _current_schedule(self) -> str | None:
        key = self.query_one("#schedules", KeyedTable).current_key
        if key is None:
            self.notify("no schedule to act on", severity="warning")
        return key

    def action_toggle_schedule(self) -> None:
        """Disable the highlighted schedule, or enable it."""
        schedule_id = self._current_schedule()
        if schedule_id is not None:
            layout = self.dashboard.store.layout
            self.act(lambda: toggle_schedule(layout, schedule_id))

    def action_trigger(self) -> None:
        """Run the highlighted schedule's pipeline now."""
        schedule_id = self._current_schedule()
        if schedule_id is not None:
            layout = self.dashboard.store.layout
            self.act(lambda: trigger_schedule(layout, schedule_id))
