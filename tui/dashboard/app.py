"""`amlocal ui`: the dashboard application."""
from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from runner.watch.watcher import PipelineWatcher
from store.layout import WorkspaceLayout
from tui.dashboard.messages import WatchEvent
from tui.dashboard.pipelines_screen import PipelinesScreen
from tui.dashboard.queries import Store
from tui.dashboard.watching import make_watcher


class DashboardApp(App[None]):
    """Pipelines → runs → a run's steps, logs and metrics, all updated live."""

    TITLE = "amlocal"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("question_mark", "toggle_help", "Keys")]

    def __init__(self, layout: WorkspaceLayout) -> None:
        super().__init__()
        self.store = Store(layout)
        self.watchers: dict[str, PipelineWatcher] = {}

    def toggle_watch(self, pipeline: str, latest_run_id: str) -> bool:
        """Start or stop watching `pipeline`; returns whether it is watched now."""
        watcher = self.watchers.pop(pipeline, None)
        if watcher is not None:
            watcher.stop()
            return False
        watcher = make_watcher(self.store.layout, pipeline, latest_run_id, self.post_message)
        self.watchers[pipeline] = watcher
        self.run_worker(watcher.run, thread=True, group="watch", name=f"watch {pipeline}",
                        exit_on_error=False)
        return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A watcher that fails says why and stops being marked as watching."""
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.name}: {type(event.worker.error).__name__}: "
                        f"{event.worker.error}", title="watching stopped", severity="error")
            pipeline = event.worker.name.removeprefix("watch ")
            self.watchers.pop(pipeline, None)

    def on_watch_event(self, event: WatchEvent) -> None:
        """Hand watch events to the screen that lists them."""
        for screen in self.screen_stack:
            if isinstance(screen, PipelinesScreen):
                screen.add_watch_event(event)

    def action_toggle_help(self) -> None:
        """`?` shows the keys of the current screen, and hides them again."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def on_unmount(self) -> None:
        for watcher in self.watchers.values():
            watcher.stop()

    def on_mount(self) -> None:
        self.push_screen(PipelinesScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every action of the current screen, beside Textual's own."""
        yield from super().get_system_commands(screen)
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description and not binding.action.startswith("app."):
                yield SystemCommand(binding.description, f"key: {binding.key}",
                                    partial(screen.run_action, binding.action))


def run_dashboard(layout: WorkspaceLayout) -> int:
    """Run the dashboard in this terminal until the user quits."""
    DashboardApp(layout).run()
    return 0
