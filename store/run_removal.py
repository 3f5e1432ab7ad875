"""Removing pipeline runs (`amlocal rm`, `amlocal gc`): their rows and folders, and finding
what no kept run uses any more (snapshots, environment images).

A run is removed with everything recorded about it and its steps (metrics, artifacts' rows,
asset uses) and its folder under `runs/` (logs, artifacts, a failed step's kept working copy).
What it wrote to datastores stays: a registered dataset or model may point there. A run whose
step runs another run reuses stands in for that run's steps, so it is kept by `gc` and
`rm` refuses it alone.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

from store import status as st
from store.database import transaction
from store.layout import WorkspaceLayout


def _marks(items: Sequence[object]) -> str:
    return ", ".join("?" * len(items))


def tree_bytes(path: Path) -> int:
    """The bytes of the files below `path` (links not followed; 0 when it is gone)."""
    total = 0
    try:
        if not path.is_dir() or path.is_symlink():
            return os.lstat(path).st_size if os.path.lexists(path) else 0
    except OSError:
        return 0
    for folder, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def runs_created_before(conn: sqlite3.Connection, before: float) -> list[str]:
    """Ids of the ended runs created before `before` (a Unix time), oldest first."""
    return [row[0] for row in conn.execute(
        f"SELECT id FROM pipeline_run WHERE created_at < ? AND status IN ({_marks(st.TERMINAL)}) "
        "ORDER BY created_at", (before, *sorted(st.TERMINAL)))]


def reusers(conn: sqlite3.Connection, run_ids: Iterable[str]) -> dict[str, set[str]]:
    """For each of `run_ids` reused by other runs (not among `run_ids`), those runs' ids."""
    ids = list(run_ids)
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT DISTINCT orig.pipeline_run_id, s.pipeline_run_id FROM step_run s "
        "JOIN step_run orig ON s.reused_step_run_id = orig.id "
        f"WHERE orig.pipeline_run_id IN ({_marks(ids)}) AND s.pipeline_run_id <> orig.pipeline_run_id",
        ids).fetchall()
    found: dict[str, set[str]] = {}
    chosen = set(ids)
    for original, user in rows:
        if user not in chosen:
            found.setdefault(original, set()).add(user)
    return found


def step_run_facts(conn: sqlite3.Connection, run_ids: Iterable[str] | None
                   ) -> list[tuple[str, str | None, dict]]:
    """(pipeline run id, snapshot id, properties) of the step runs of `run_ids` (None: all)."""
    if run_ids is None:
        rows = conn.execute("SELECT pipeline_run_id, snapshot_id, properties_json FROM step_run")
    else:
        ids = list(run_ids)
        if not ids:
            return []
        rows = conn.execute("SELECT pipeline_run_id, snapshot_id, properties_json FROM step_run "
                            f"WHERE pipeline_run_id IN ({_marks(ids)})", ids)
    return [(r[0], r[1], json.loads(r[2] or "{}")) for r in rows]


def all_run_ids(conn: sqlite3.Connection) -> list[str]:
    """Every pipeline run's id."""
    return [row[0] for row in conn.execute("SELECT id FROM pipeline_run")]


def snapshot_ids(conn: sqlite3.Connection) -> list[str]:
    """Every stored snapshot's id."""
    return [row[0] for row in conn.execute("SELECT id FROM snapshot ORDER BY created_at")]


def definitions_text(conn: sqlite3.Connection) -> str:
    """The text of the definitions that may name a snapshot outside step runs (pipeline specs,
    module versions, drafts): a snapshot whose id is in it stays."""
    parts = [row[0] or "" for row in conn.execute("SELECT spec_json FROM pipeline")]
    for table in ("module_version", "pipeline_draft"):
        for row in conn.execute(f"SELECT * FROM {table}"):
            parts.extend(str(value) for value in tuple(row) if value is not None)
    return "\n".join(parts)


def _manifest_objects(path: Path) -> set[str] | None:
    """The object ids manifest `path` holds (None when it cannot be read)."""
    try:
        return {item[1] for item in json.loads(path.read_text())}
    except (OSError, ValueError, IndexError, TypeError):
        return None


def snapshot_objects(root: Path, ids: Sequence[str]) -> list[Path]:
    """The object files that only snapshots `ids` hold in snapshot folder `root` (none when a
    manifest cannot be read: then nothing is certain)."""
    manifests = root / "manifests"
    leaving = {f"{i}.json" for i in ids}
    theirs: set[str] = set()
    for name in leaving:
        theirs |= _manifest_objects(manifests / name) or set()
    if manifests.is_dir():
        for entry in os.scandir(manifests):
            if entry.name.endswith(".json") and entry.name not in leaving:
                held = _manifest_objects(Path(entry.path))
                if held is None:
                    return []
                theirs -= held
    return [root / "objects" / sha[:2] / sha for sha in sorted(theirs)
            if (root / "objects" / sha[:2] / sha).is_file()]


def remove_snapshots(conn: sqlite3.Connection, root: Path, ids: Sequence[str]) -> int:
    """Remove snapshots `ids` (rows, manifests, and the objects no other snapshot holds) from
    the snapshot folder `root`; returns the bytes freed."""
    if not ids:
        return 0
    objects = snapshot_objects(root, ids)
    with transaction(conn):
        conn.execute(f"DELETE FROM snapshot WHERE id IN ({_marks(ids)})", list(ids))
    freed = 0
    for path in [*(root / "manifests" / f"{i}.json" for i in ids), *objects]:
        freed += tree_bytes(path)
        path.unlink(missing_ok=True)
    return freed


def remove_runs(conn: sqlite3.Connection, layout: WorkspaceLayout, run_ids: Sequence[str]) -> int:
    """Remove the ended runs `run_ids`: every row about them and their steps, then their
    folders; returns the bytes of the folders. An active run is refused (ValueError)."""
    ids = list(run_ids)
    if not ids:
        return 0
    active = conn.execute(f"SELECT id, status FROM pipeline_run WHERE id IN ({_marks(ids)}) "
                          f"AND status IN ({_marks(st.ACTIVE)})", (*ids, *sorted(st.ACTIVE))).fetchone()
    if active is not None:
        raise ValueError(f"run {active[0][:8]} is {active[1]}")
    steps = [row[0] for row in conn.execute(
        f"SELECT id FROM step_run WHERE pipeline_run_id IN ({_marks(ids)})", ids)]
    every = [*ids, *steps]
    with transaction(conn):
        for table in ("metric", "metric_latest", "artifact"):
            for start in range(0, len(every), 500):
                chunk = every[start:start + 500]
                conn.execute(f"DELETE FROM {table} WHERE run_id IN ({_marks(chunk)})", chunk)
        conn.execute(f"DELETE FROM asset_use WHERE pipeline_run_id IN ({_marks(ids)})", ids)
        conn.execute(f"UPDATE schedule SET last_run_id = NULL WHERE last_run_id IN ({_marks(ids)})",
                     ids)
        conn.execute(f"DELETE FROM step_run WHERE pipeline_run_id IN ({_marks(ids)})", ids)
        conn.execute(f"DELETE FROM pipeline_run WHERE id IN ({_marks(ids)})", ids)
    freed = 0
    for run_id in ids:
        folder = layout.pipeline_run_dir(run_id)
        freed += tree_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
    return freed
