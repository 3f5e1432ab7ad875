"""The workspace registries: every registered dataset, model and environment version, and
the lineage of the highlighted one (the run that made it, what that run read, who read it)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from tui.dashboard.keyed_table import KeyedTable, plain
from tui.dashboard.live_screen import LiveScreen
from tui.dashboard.messages import AssetDetailLoaded
from tui.dashboard.registry_queries import KINDS, AssetRow, asset_detail, asset_rows

EMPTY = ("nothing registered yet: datasets (dataset.register), models (Model.register, "
         "run.register_model) and environments (env.register) appear here")


class RegistryScreen(LiveScreen):
    """Registered versions, newest first per name; `k` shows one kind, then the next."""

    DEFAULT_CSS = """
    RegistryScreen #assets { height: 1fr; }
    RegistryScreen #lineage { height: auto; max-height: 50%; padding: 0 1;
                              border-top: solid $accent; }
    """
    BINDINGS = [Binding("t", "next_kind", "Kind"), Binding("escape", "app.pop_screen", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.kind: str | None = None  # None: every kind
        self.asset_id: str | None = None
        self.rows: list[AssetRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield KeyedTable([("ref", "ASSET"), ("used_by", "USED BY"), ("made_by", "MADE BY"),
                          ("tags", "TAGS"), ("description", "DESCRIPTION")], id="assets")
        yield Static("loading…", id="lineage")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "amlocal"
        self._subtitle()
        super().on_mount()

    def _subtitle(self) -> None:
        self.sub_title = f"registries: {self.kind + 's' if self.kind else 'all kinds'}"

    def fetch(self) -> list[AssetRow]:
        asset_id = self.asset_id
        if asset_id is not None:
            self.post_message(AssetDetailLoaded(asset_id, asset_detail(self.dashboard.store,
                                                                       asset_id)))
        return asset_rows(self.dashboard.store, self.kind)

    def show(self, rows: list[AssetRow]) -> None:
        self.rows = rows
        table = self.query_one("#assets", KeyedTable)
        table.sync((r.id, (r.ref, r.used_by, r.made_by, r.tags, r.description)) for r in rows)
        if not rows:
            self.asset_id = None
            self.query_one("#lineage", Static).update(
                plain(EMPTY if self.kind is None else f"no {self.kind}s registered yet"))
        elif self.asset_id not in {r.id for r in rows}:
            self._select(table.current_key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "assets" and event.row_key is not None:
            self._select(event.row_key.value)

    def _select(self, asset_id: str | None) -> None:
        if asset_id is None or asset_id == self.asset_id:
            return
        if not any(r.id == asset_id for r in self.rows):
            return
        self.asset_id = asset_id
        self.load()

    def on_asset_detail_loaded(self, message: AssetDetailLoaded) -> None:
        if message.asset_id == self.asset_id:
            self.query_one("#lineage", Static).update(plain(message.text))

    def action_next_kind(self) -> None:
        """All kinds → datasets → models → environments → all kinds."""
        cycle = [None, *KINDS]
        self.kind = cycle[(cycle.index(self.kind) + 1) % len(cycle)]
        self._subtitle()
        self.load()
