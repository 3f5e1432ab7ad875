"""Changing modules and their versions after publishing: status, name, description, default
version (`Module.enable/disable/deprecate/set_*`, `ModuleVersion.enable/…/set_description`)."""
from __future__ import annotations

import json

import sqlite3

from store.database import transaction
from store.errors import NotFoundError
from store.records import ModuleVersionRecord

MODULE_STATUSES = ("Active", "Deprecated", "Disabled")


def get_module_version(conn: sqlite3.Connection, version_id: str) -> ModuleVersionRecord:
    """The module version `version_id`; NotFoundError when there is none."""
    row = conn.execute("SELECT * FROM module_version WHERE id = ?", (version_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no module version {version_id}")
    return ModuleVersionRecord.of(row)


def module_version_records(conn: sqlite3.Connection, module_id: str) -> list[ModuleVersionRecord]:
    """Every version of module `module_id`, oldest first."""
    return [ModuleVersionRecord.of(r) for r in conn.execute(
        "SELECT * FROM module_version WHERE module_id = ? ORDER BY created_at", (module_id,))]


def _check_status(status: str) -> None:
    if status not in MODULE_STATUSES:
        raise ValueError(f"module status must be one of {', '.join(MODULE_STATUSES)}, not {status!r}")


def set_module_fields(conn: sqlite3.Connection, module_id: str, *, name: str | None = None,
                      description: str | None = None, status: str | None = None,
                      default_version: str | None = None) -> None:
    """Change the given fields of module `module_id`."""
    changes = {k: v for k, v in (("name", name), ("description", description), ("status", status),
                                 ("default_version", default_version)) if v is not None}
    if status is not None:
        _check_status(status)
    if not changes:
        return
    with transaction(conn):
        done = conn.execute(f"UPDATE module SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                            (*changes.values(), module_id))
        if done.rowcount == 0:
            raise NotFoundError(f"no module {module_id}")


def set_module_version_fields(conn: sqlite3.Connection, version_id: str, *,
                              status: str | None = None, description: str | None = None) -> None:
    """Change the status, or the description kept in the definition, of a module version."""
    record = get_module_version(conn, version_id)
    if status is not None:
        _check_status(status)
    definition = dict(record.definition)
    if description is not None:
        definition["description"] = description
    with transaction(conn):
        conn.execute("UPDATE module_version SET status = ?, definition_json = ? WHERE id = ?",
                     (status or record.status, json.dumps(definition, sort_keys=True,
                                                          separators=(",", ":")), version_id))
