"""`amlocal ui`: the dashboard application."""
from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from store.layout import WorkspaceLayout
from tui.dashboard.pipelines_screen import PipelinesScreen
from tui.dashboard.queries import Store


class DashboardApp(App):
    """Pipelines → runs → a run's steps, logs and metrics, all updated live."""

    TITLE = "amlocal"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("question_mark", "show_help_panel", "Keys")]

    def __init__(self, layout: WorkspaceLayout) -> None:
        super().__init__()
        self.store = Store(layout)

    def on_mount(self) -> None:
        self.push_screen(PipelinesScreen())


def run_dashboard(layout: WorkspaceLayout) -> int:
    """Run the dashboard in this terminal until the user quits."""
    DashboardApp(layout).run()
    return 0
