"""A one-line input docked at the bottom, shown by `/`, for filtering what a screen lists."""
from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class FilterInput(Input):
    """Hidden until `open()`; `escape` empties and hides it (the screen sees Input.Changed)."""

    DEFAULT_CSS = """
    FilterInput { dock: bottom; display: none; }
    FilterInput.-shown { display: block; }
    """
    BINDINGS = [Binding("escape", "close", "Clear filter")]

    def open(self) -> None:
        self.add_class("-shown")
        self.focus()

    def action_close(self) -> None:
        self.value = ""
        self.remove_class("-shown")
        self.screen.set_focus(None)
        self.screen.focus_next()
