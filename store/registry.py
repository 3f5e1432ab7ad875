"""The workspace's registries: numbered versions of datasets, models and environments.

One table holds all three kinds (`registered_asset`); what each kind's `definition` holds is
the SDK layer's business. Versions count from 1 per (kind, name) and are given out inside the
inserting transaction, so two registrations at once never get the same number. `asset_use`
links a version to the step runs that read it, for lineage ("used by") and for reuse.
"""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from typing import Any, Mapping

from store.database import transaction
from store.errors import NotFoundError
from store.records import AssetRecord, AssetUseRecord

KINDS = ("dataset", "model", "environment")


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown asset kind {kind!r}")
    return kind


def _dump(value: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(value or {}), sort_keys=True)


def add_version(conn: sqlite3.Connection, kind: str, name: str, definition: Mapping[str, Any], *,
                content: Mapping[str, str] | None = None, description: str | None = None,
                tags: Mapping[str, Any] | None = None,
                properties: Mapping[str, Any] | None = None,
                made_by_step_run_id: str | None = None,
                made_by_pipeline_run_id: str | None = None,
                asset_id: str | None = None) -> AssetRecord:
    """Register a new version of `name` (1 if it is new) and return it."""
    _check_kind(kind)
    asset_id = asset_id or str(uuid.uuid4())
    with transaction(conn):
        row = conn.execute("SELECT MAX(version) FROM registered_asset WHERE kind = ? AND name = ?",
                           (kind, name)).fetchone()
        version = int(row[0] or 0) + 1
        conn.execute(
            "INSERT INTO registered_asset (id, kind, name, version, description, tags_json, "
            "properties_json, definition_json, content_json, made_by_step_run_id, "
            "made_by_pipeline_run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (asset_id, kind, name, version, description, _dump(tags), _dump(properties),
             _dump(definition), _dump(content), made_by_step_run_id, made_by_pipeline_run_id,
             time.time()))
    return get_by_id(conn, asset_id)


def get_version(conn: sqlite3.Connection, kind: str, name: str,
                version: int | None = None) -> AssetRecord:
    """Version `version` of `name` (the latest when None); NotFoundError names what exists."""
    _check_kind(kind)
    if version is None:
        row = conn.execute("SELECT * FROM registered_asset WHERE kind = ? AND name = ? "
                           "ORDER BY version DESC LIMIT 1", (kind, name)).fetchone()
    else:
        row = conn.execute("SELECT * FROM registered_asset WHERE kind = ? AND name = ? AND "
                           "version = ?", (kind, name, int(version))).fetchone()
    if row is not None:
        return AssetRecord.of(row)
    versions = [r[0] for r in conn.execute(
        "SELECT version FROM registered_asset WHERE kind = ? AND name = ? ORDER BY version",
        (kind, name))]
    if not versions:
        raise NotFoundError(f"no {kind} named {name!r} is registered in this workspace")
    raise NotFoundError(f"{kind} {name!r} has no version {version} (versions: "
                        f"{', '.join(map(str, versions))})")


def find_version(conn: sqlite3.Connection, kind: str, name: str,
                 version: int | None = None) -> AssetRecord | None:
    """Like `get_version`, None when there is no such version."""
    try:
        return get_version(conn, kind, name, version)
    except NotFoundError:
        return None


def get_by_id(conn: sqlite3.Connection, asset_id: str) -> AssetRecord:
    """The asset version whose id is `asset_id`."""
    row = conn.execute("SELECT * FROM registered_asset WHERE id = ?", (asset_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no registered asset has id {asset_id!r}")
    return AssetRecord.of(row)


def find_by_id(conn: sqlite3.Connection, asset_id: str) -> AssetRecord | None:
    """The asset version whose id is `asset_id`, or None."""
    row = conn.execute("SELECT * FROM registered_asset WHERE id = ?", (asset_id,)).fetchone()
    return AssetRecord.of(row) if row is not None else None


def list_versions(conn: sqlite3.Connection, kind: str, name: str | None = None,
                  latest_only: bool = False) -> list[AssetRecord]:
    """Every version of every `kind` asset (of `name` only, when given), by name then newest
    first; `latest_only` keeps each name's newest version."""
    _check_kind(kind)
    sql = "SELECT * FROM registered_asset WHERE kind = ?"
    args: list[Any] = [kind]
    if name is not None:
        sql += " AND name = ?"
        args.append(name)
    if latest_only:
        sql += (" AND version = (SELECT MAX(version) FROM registered_asset AS newer "
                "WHERE newer.kind = registered_asset.kind AND newer.name = registered_asset.name)")
    rows = conn.execute(sql + " ORDER BY name, version DESC", args)
    return [AssetRecord.of(r) for r in rows]


def update_asset(conn: sqlite3.Connection, asset_id: str, *, description: str | None = None,
                 tags: Mapping[str, Any] | None = None,
                 properties: Mapping[str, Any] | None = None) -> AssetRecord:
    """Replace the description, tags or properties of one version (what is not None)."""
    current = get_by_id(conn, asset_id)
    with transaction(conn):
        conn.execute("UPDATE registered_asset SET description = ?, tags_json = ?, "
                     "properties_json = ? WHERE id = ?",
                     (current.description if description is None else description,
                      _dump(current.tags if tags is None else tags),
                      _dump(current.properties if properties is None else properties), asset_id))
    return get_by_id(conn, asset_id)


def delete_asset(conn: sqlite3.Connection, asset_id: str) -> None:
    """Remove one version and its use records (`Model.delete`)."""
    with transaction(conn):
        conn.execute("DELETE FROM asset_use WHERE asset_id = ?", (asset_id,))
        conn.execute("DELETE FROM registered_asset WHERE id = ?", (asset_id,))


def record_use(conn: sqlite3.Connection, asset_id: str, step_run_id: str,
               pipeline_run_id: str) -> bool:
    """Note that `step_run_id` read `asset_id` (once per pair); False when no asset has that
    id (a step's event may name anything)."""
    with transaction(conn):
        cursor = conn.execute(
            "INSERT OR IGNORE INTO asset_use (asset_id, step_run_id, pipeline_run_id, used_at) "
            "SELECT id, ?, ?, ? FROM registered_asset WHERE id = ?",
            (step_run_id, pipeline_run_id, time.time(), asset_id))
    return cursor.rowcount > 0


def uses_of(conn: sqlite3.Connection, asset_id: str) -> list[AssetUseRecord]:
    """The step runs that read `asset_id`, oldest first."""
    rows = conn.execute("SELECT * FROM asset_use WHERE asset_id = ? ORDER BY used_at",
                        (asset_id,))
    return [AssetUseRecord(r["asset_id"], r["step_run_id"], r["pipeline_run_id"], r["used_at"])
            for r in rows]


def used_by_step_run(conn: sqlite3.Connection, step_run_id: str) -> list[AssetRecord]:
    """The asset versions `step_run_id` read."""
    rows = conn.execute("SELECT registered_asset.* FROM asset_use JOIN registered_asset ON "
                        "registered_asset.id = asset_use.asset_id WHERE step_run_id = ? "
                        "ORDER BY kind, name, version", (step_run_id,))
    return [AssetRecord.of(r) for r in rows]


def used_by_pipeline_run(conn: sqlite3.Connection, pipeline_run_id: str) -> list[AssetRecord]:
    """The asset versions any step of `pipeline_run_id` read."""
    rows = conn.execute("SELECT DISTINCT registered_asset.* FROM asset_use JOIN registered_asset "
                        "ON registered_asset.id = asset_use.asset_id WHERE pipeline_run_id = ? "
                        "ORDER BY kind, name, version", (pipeline_run_id,))
    return [AssetRecord.of(r) for r in rows]


def made_by_pipeline_run(conn: sqlite3.Connection, pipeline_run_id: str) -> list[AssetRecord]:
    """The asset versions the steps of `pipeline_run_id` registered."""
    rows = conn.execute("SELECT * FROM registered_asset WHERE made_by_pipeline_run_id = ? "
                        "ORDER BY kind, name, version", (pipeline_run_id,))
    return [AssetRecord.of(r) for r in rows]
