"""The registries as the dashboard shows them: one row per registered version, and the
lineage of one version, read from the store in a worker thread (see `queries.Store`)."""
from __future__ import annotations

from dataclasses import dataclass

from store import registry
from store.errors import NotFoundError
from tui.dashboard.queries import Store
from tui.formatting import short_value
from tui.registry_commands import asset_ref, made_by, tags_text, version_text

KINDS = registry.KINDS  # dataset, model, environment: the order the screen lists them in


@dataclass(frozen=True)
class AssetRow:
    """One registered version: `ref` is `kind name:version`, unique in the workspace."""

    id: str
    kind: str
    ref: str
    description: str
    tags: str
    made_by: str
    used_by: str


def asset_rows(store: Store, kind: str | None = None) -> list[AssetRow]:
    """Every registered version (of `kind` only, when given): by kind, name, newest first."""
    rows = []
    with store.query() as conn:
        for each in (kind,) if kind else KINDS:
            for record in registry.list_versions(conn, each):
                rows.append(AssetRow(record.id, record.kind, asset_ref(record),
                                     short_value(record.description or "-", 30),
                                     short_value(tags_text(record.tags), 30),
                                     made_by(conn, record),
                                     str(len(registry.uses_of(conn, record.id)))))
    return rows


def asset_detail(store: Store, asset_id: str) -> str:
    """One version in detail, with its lineage (what `amlocal models NAME` prints for it)."""
    with store.query() as conn:
        try:
            record = registry.get_by_id(conn, asset_id)
        except NotFoundError:
            return "this version is no longer registered"
        return f"{asset_ref(record)}\n{version_text(conn, record)}"
