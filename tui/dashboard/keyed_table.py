"""A DataTable whose rows are keyed and updated in place, keeping the cursor on its row."""
from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.markup import escape
from textual.binding import Binding
from textual.widgets import DataTable

from tui.formatting import shown

STATUS_STYLE = {"Finished": "green", "Failed": "bold red", "Running": "yellow",
                "Canceled": "dim", "Queued": "cyan", "Preparing": "cyan", "NotStarted": "cyan"}


def plain(text: str) -> Text:
    """`text` as it is to be read, never as markup nor as terminal control: what a step
    printed, named or raised cannot restyle or drive the screen (escape bytes become `\\xNN`)."""
    return Text(shown(text))


def literal(text: str) -> str:
    """`text` to put inside markup: its brackets escaped, its escape bytes shown (`plain`)."""
    return escape(shown(text))


def _cell(cell: object) -> object:
    return plain(cell) if isinstance(cell, str) else cell


def status_text(status: str) -> Text:
    """A status word in the colour every screen uses for it."""
    return Text(status, style=STATUS_STYLE.get(status, ""))


class KeyedTable(DataTable):
    """Rows are (key, cells); `sync` adds, updates and removes rows, never clearing the table.
    A text cell is shown as plain text (see `plain`)."""

    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """
    # vi keys beside the arrows: j/k a row, g/G the first and last row
    BINDINGS = [Binding("j", "cursor_down", "Down", show=False),
                Binding("k", "cursor_up", "Up", show=False),
                Binding("g", "scroll_top", "First row", show=False),
                Binding("G", "scroll_bottom", "Last row", show=False)]

    def __init__(self, columns: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._columns = columns
        self._cells: dict[str, tuple] = {}
        self._widths: tuple[int, ...] = ()

    def on_mount(self) -> None:
        self._ensure_columns()

    def on_idle(self) -> None:
        """Render again from scratch once the columns have grown to fit new cells.

        DataTable measures new cells when idle, but keeps the rows it rendered before that in
        caches that a width change does not clear (Textual 8.2): a paint that falls between
        adding a row and measuring it leaves the row cut at the old widths ("compare_" for
        "compare_models") until the table is restyled. `notify_style_update` clears them.
        """
        widths = tuple(column.content_width for column in self.columns.values())
        if widths != self._widths:
            self._widths = widths
            self.notify_style_update()

    def _ensure_columns(self) -> None:
        """Add the columns once; data may arrive (from a worker) before this widget mounts."""
        if not self.columns:
            for key, label in self._columns:
                self.add_column(label, key=key)

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor (None for an empty table)."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def sync(self, rows: Iterable[tuple[str, tuple]]) -> None:
        """Make the table hold exactly `rows`, in their order, changing only what changed."""
        self._ensure_columns()
        rows = list(rows)
        keep = self.current_key
        wanted = {key for key, _ in rows}
        for key in [k for k in self._cells if k not in wanted]:
            self.remove_row(key)
            del self._cells[key]
        column_keys = [key for key, _ in self._columns]
        added = False
        for key, cells in rows:
            old = self._cells.get(key)
            if old is None:
                self.add_row(*map(_cell, cells), key=key)
                added = True
            elif old != cells:
                for column, before, after in zip(column_keys, old, cells):
                    if before != after:
                        self.update_cell(key, column, _cell(after), update_width=True)
            self._cells[key] = cells
        if added:  # new rows go where `rows` puts them (e.g. newest first): the first column is unique
            order = {str(cells[0]): i for i, (_, cells) in enumerate(rows)}
            self.sort(column_keys[0], key=lambda first: order.get(str(first), len(order)))
        if keep in self._cells:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
