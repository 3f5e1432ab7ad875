"""Marked runs side by side: parameters and final metrics, only the differences by default."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header

from tui.dashboard.keyed_table import KeyedTable
from tui.dashboard.live_screen import LiveScreen
from tui.dashboard.queries import Comparison, compare_runs


class CompareScreen(LiveScreen):
    """`a` switches between only the differing rows and every row (read once: runs that
    are compared are usually over)."""

    DEFAULT_CSS = """
    CompareScreen KeyedTable { height: 1fr; }
    """
    BINDINGS = [Binding("a", "toggle_all", "All rows / only differences"),
                Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.only_differences = True
        self.comparison: Comparison | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield KeyedTable([("fact", ""), *((run_id, run_id[:8]) for run_id in self.run_ids)],
                         id="comparison")
        yield Footer()

    refresh_seconds = None

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", f"comparing {len(self.run_ids)} runs"
        super().on_mount()

    def fetch(self) -> Comparison:
        return compare_runs(self.dashboard.store, self.run_ids)

    def show(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self._show()

    def _show(self) -> None:
        if self.comparison is None:
            return
        rows = self.comparison.differing() if self.only_differences else self.comparison.rows
        self.query_one(KeyedTable).sync((fact, (fact, *values)) for fact, values in rows)
        self.sub_title = (f"comparing {len(self.run_ids)} runs: "
                          + ("only differences (a: all rows)" if self.only_differences else "all rows"))

    def action_toggle_all(self) -> None:
        self.only_differences = not self.only_differences
        self._show()
