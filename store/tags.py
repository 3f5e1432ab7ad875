"""Tags of experiments and runs: read, merge in, and remove keys (`Experiment.tag`,
`set_tags`, `remove_tags`; `Run.remove_tags`)."""
from __future__ import annotations

import json
import sqlite3

from store.database import transaction
from store.errors import NotFoundError

_TABLES = {"experiment": "name", "pipeline_run": "id", "step_run": "id"}


def _edit(conn: sqlite3.Connection, table: str, key: str, add: dict[str, str],
          remove: list[str]) -> dict[str, str]:
    if table not in _TABLES:
        raise ValueError(f"{table} has no tags")
    column = _TABLES[table]
    with transaction(conn):
        row = conn.execute(f"SELECT tags_json FROM {table} WHERE {column} = ?", (key,)).fetchone()
        if row is None:
            raise NotFoundError(f"no {table.replace('_', ' ')} {key}")
        tags = {**json.loads(row[0]), **add}
        for name in remove:
            tags.pop(name, None)
        conn.execute(f"UPDATE {table} SET tags_json = ? WHERE {column} = ?", (json.dumps(tags), key))
    return tags


def get_tags(conn: sqlite3.Connection, table: str, key: str) -> dict[str, str]:
    """The tags of the experiment (by name) or run (by id) `key`."""
    if table not in _TABLES:
        raise ValueError(f"{table} has no tags")
    row = conn.execute(f"SELECT tags_json FROM {table} WHERE {_TABLES[table]} = ?", (key,)).fetchone()
    if row is None:
        raise NotFoundError(f"no {table.replace('_', ' ')} {key}")
    return json.loads(row[0])


def set_tags(conn: sqlite3.Connection, table: str, key: str, tags: dict[str, str]) -> dict[str, str]:
    """Merge `tags` into the tags of `key`; returns them all."""
    return _edit(conn, table, key, {k: str(v) for k, v in tags.items()}, [])


def remove_tags(conn: sqlite3.Connection, table: str, key: str, names: list[str]) -> dict[str, str]:
    """Remove the tags `names` of `key` (missing ones are ignored); returns what is left."""
    return _edit(conn, table, key, {}, list(names))
