"""The base of every dashboard screen: load → loaded → refresh, actions in workers, and worker
errors handled in one place (a notification, never a crash)."""
from __future__ import annotations

from typing import Any, Callable, Protocol

from textual import work
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.dashboard.messages import DataLoaded
from tui.dashboard.queries import Store

REFRESH_SECONDS = 1.0


class Dashboard(Protocol):
    """What screens use of the app (`tui.dashboard.app.DashboardApp`)."""

    store: Store
    watchers: dict[str, Any]

    def toggle_watch(self, pipeline: str, latest_run_id: str) -> bool: ...


class LiveScreen(Screen):
    """A screen that shows what `fetch()` reads, read again every REFRESH_SECONDS.

    `fetch` runs in a thread worker and must only read (the store, files); `show` gets its
    result on the UI thread and updates widgets in place. `act` runs a user action (rerun,
    cancel) in a worker and notifies what it did. A worker that raises becomes a
    notification saying what failed and why.
    """

    refresh_seconds: float | None = REFRESH_SECONDS

    @property
    def dashboard(self) -> Dashboard:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.load()
        if self.refresh_seconds:
            self.set_interval(self.refresh_seconds, self.load)

    def fetch(self) -> Any:
        """What the screen shows, read from the store (in a worker thread)."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Update the widgets with what `fetch` read (on the UI thread)."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        self.post_message(DataLoaded(self.fetch()))

    def on_data_loaded(self, message: DataLoaded) -> None:
        self.show(message.data)

    @work(thread=True, group="actions", exit_on_error=False)
    def act(self, action: Callable[[], str]) -> None:
        """Run `action` (which returns what it did, in words) and say so; then reload."""
        said = action()
        self.app.call_from_thread(self.app.notify, said)
        self.load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors end: a notification naming the error."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title="could not do that",
                        severity="error", timeout=10)
