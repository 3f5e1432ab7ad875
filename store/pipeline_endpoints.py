"""Pipeline endpoints (`PipelineEndpoint`): a name over numbered versions of published
pipelines, one of them the default a submit runs."""
from __future__ import annotations

import sqlite3
import time
import uuid

from store.database import transaction
from store.errors import NotFoundError
from store.records import PipelineEndpointRecord


def _versions(conn: sqlite3.Connection, endpoint_id: str) -> tuple[tuple[str, str], ...]:
    rows = conn.execute("SELECT version, published_pipeline_id FROM pipeline_endpoint_version "
                        "WHERE endpoint_id = ? ORDER BY created_at, CAST(version AS INTEGER)",
                        (endpoint_id,))
    return tuple((r["version"], r["published_pipeline_id"]) for r in rows)


def _record(conn: sqlite3.Connection, row: sqlite3.Row | None, what: str) -> PipelineEndpointRecord:
    if row is None:
        raise NotFoundError(f"no pipeline endpoint {what}")
    return PipelineEndpointRecord(row["id"], row["name"], row["description"],
                                  row["default_version"], row["status"], row["created_at"],
                                  _versions(conn, row["id"]))


def create_endpoint(conn: sqlite3.Connection, name: str, description: str | None,
                    published_pipeline_id: str) -> PipelineEndpointRecord:
    """A new endpoint `name` whose version "0" (the default) is `published_pipeline_id`."""
    endpoint_id = str(uuid.uuid4())
    now = time.time()
    with transaction(conn):
        conn.execute("INSERT INTO pipeline_endpoint (id, name, description, default_version, "
                     "status, created_at) VALUES (?, ?, ?, '0', 'Active', ?)",
                     (endpoint_id, name, description, now))
        conn.execute("INSERT INTO pipeline_endpoint_version (endpoint_id, version, "
                     "published_pipeline_id, created_at) VALUES (?, '0', ?, ?)",
                     (endpoint_id, published_pipeline_id, now))
    return get_endpoint(conn, endpoint_id=endpoint_id)


def get_endpoint(conn: sqlite3.Connection, *, endpoint_id: str | None = None,
                 name: str | None = None) -> PipelineEndpointRecord:
    """The endpoint with id `endpoint_id` or name `name`."""
    if endpoint_id is not None:
        row = conn.execute("SELECT * FROM pipeline_endpoint WHERE id = ?", (endpoint_id,)).fetchone()
        return _record(conn, row, f"with id {endpoint_id}")
    row = conn.execute("SELECT * FROM pipeline_endpoint WHERE name = ?", (name,)).fetchone()
    return _record(conn, row, f"named {name!r}")


def find_endpoint_name(conn: sqlite3.Connection, name: str) -> bool:
    """True when an endpoint is named `name`."""
    return conn.execute("SELECT 1 FROM pipeline_endpoint WHERE name = ?", (name,)).fetchone() is not None


def list_endpoints(conn: sqlite3.Connection, active_only: bool) -> list[PipelineEndpointRecord]:
    """Every endpoint (only the active ones with `active_only`), newest first."""
    sql = "SELECT * FROM pipeline_endpoint"
    if active_only:
        sql += " WHERE status = 'Active'"
    return [_record(conn, row, "") for row in conn.execute(sql + " ORDER BY created_at DESC").fetchall()]


def add_version(conn: sqlite3.Connection, endpoint_id: str, published_pipeline_id: str) -> str:
    """Add `published_pipeline_id` as the endpoint's next version (its number, as a string);
    a pipeline already there keeps its version."""
    with transaction(conn):
        found = conn.execute("SELECT version FROM pipeline_endpoint_version WHERE endpoint_id = ? "
                             "AND published_pipeline_id = ?",
                             (endpoint_id, published_pipeline_id)).fetchone()
        if found is not None:
            return found["version"]
        top = conn.execute("SELECT MAX(CAST(version AS INTEGER)) AS top FROM "
                           "pipeline_endpoint_version WHERE endpoint_id = ?", (endpoint_id,)).fetchone()
        version = str((top["top"] if top["top"] is not None else -1) + 1)
        conn.execute("INSERT INTO pipeline_endpoint_version (endpoint_id, version, "
                     "published_pipeline_id, created_at) VALUES (?, ?, ?, ?)",
                     (endpoint_id, version, published_pipeline_id, time.time()))
    return version


def update_endpoint(conn: sqlite3.Connection, endpoint_id: str, *, default_version: str | None = None,
                    status: str | None = None, name: str | None = None) -> None:
    """Change an endpoint's default version, status or name."""
    with transaction(conn):
        for column, value in (("default_version", default_version), ("status", status),
                              ("name", name)):
            if value is not None:
                conn.execute(f"UPDATE pipeline_endpoint SET {column} = ? WHERE id = ?",
                             (value, endpoint_id))
