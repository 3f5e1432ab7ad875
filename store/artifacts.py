"""Artifacts: files kept with a run (its `./outputs` and `./logs`, uploads, images)."""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from store.database import transaction
from store.records import ArtifactRecord


def record_artifacts(conn: sqlite3.Connection, run_id: str, files: list[tuple[str, Path]]) -> None:
    """Record (name, path) pairs as artifacts of `run_id`, replacing same-named ones."""
    now = time.time()
    with transaction(conn):
        for name, path in files:
            conn.execute("DELETE FROM artifact WHERE run_id = ? AND name = ?", (run_id, name))
            conn.execute("INSERT INTO artifact (run_id, name, path, size, created_at) "
                         "VALUES (?, ?, ?, ?, ?)", (run_id, name, str(path), os.lstat(path).st_size, now))


def copy_artifacts(conn: sqlite3.Connection, from_run_id: str, to_run_id: str) -> None:
    """Record `from_run_id`'s artifacts (the same files) for `to_run_id` too."""
    with transaction(conn):
        conn.execute("INSERT INTO artifact (run_id, name, path, size, created_at) "
                     "SELECT ?, name, path, size, created_at FROM artifact WHERE run_id = ?",
                     (to_run_id, from_run_id))


def list_artifacts(conn: sqlite3.Connection, run_id: str) -> list[ArtifactRecord]:
    """The files kept with `run_id`, by name."""
    return [ArtifactRecord.of(row) for row in
            conn.execute("SELECT * FROM artifact WHERE run_id = ? ORDER BY name", (run_id,))]
