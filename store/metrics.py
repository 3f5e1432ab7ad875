"""Metrics: every value kept in order, and the latest value of each name kept apart.

Values arrive in batches (one transaction each) from the step's metric file. A float is kept
in `value`; an int in `value` (as a number, for ordering) and exactly, as text, in `value_json`,
so it reads back as the same int of any size; NaN (which SQLite cannot keep as a number) and
everything else (bools, lists, rows, tables, images) as JSON in `value_json`.
"""
from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, Iterable, NamedTuple

from store.database import transaction
from store.records import LatestMetric, MetricValue


class MetricPoint(NamedTuple):
    """One logged value (a tuple: ingestion creates one per logged value)."""

    run_id: str
    name: str
    kind: str
    value: Any
    logged_at: float


def _split(value: Any) -> tuple[float | None, str | None]:
    """(value, value_json) of a logged value: see the module docstring."""
    if type(value) is float and value == value:  # the common case, checked first: hot path
        return value, None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, json.dumps(value, default=str)
    if isinstance(value, int):
        try:
            return float(value), str(int(value))
        except OverflowError:  # beyond a float's range: kept exactly as text only
            return None, str(int(value))
    return None, json.dumps(float(value))  # NaN (and float subclasses)


def insert_metrics(conn: sqlite3.Connection, points: Iterable[MetricPoint]) -> int:
    """Append `points` to the history and update each name's latest value, in one transaction.

    Plain `(run_id, name, kind, value, logged_at)` tuples are accepted too: ingestion builds
    100 000s of them, and a plain tuple costs less than a MetricPoint.
    """
    points = points if isinstance(points, list) else list(points)
    if not points:
        return 0
    now = time.time()
    with transaction(conn):
        counts: dict[tuple[str, str], int] = {}
        latest: dict[tuple[str, str], tuple[str, Any]] = {}
        rows: list[tuple] = []
        append = rows.append
        for run_id, name, kind, value, logged_at in points:
            key = (run_id, name)
            seq = counts.get(key)
            if seq is None:
                row = conn.execute("SELECT count FROM metric_latest WHERE run_id = ? AND name = ?",
                                   key).fetchone()
                seq = row[0] if row else 0
            counts[key] = seq + 1
            latest[key] = (kind, value)
            if type(value) is float and value == value:  # the hot path: a plain float
                append((run_id, name, kind, seq, value, None, logged_at))
            else:
                append((run_id, name, kind, seq, *_split(value), logged_at))
        conn.executemany("INSERT INTO metric (run_id, name, kind, seq, value, value_json, "
                         "logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT INTO metric_latest (run_id, name, kind, value, value_json, count, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, name) DO UPDATE SET "
            "kind = excluded.kind, value = excluded.value, value_json = excluded.value_json, "
            "count = excluded.count, updated_at = excluded.updated_at",
            [(run_id, name, kind, *_split(value), counts[(run_id, name)], now)
             for (run_id, name), (kind, value) in latest.items()])
    return len(points)


def copy_metrics(conn: sqlite3.Connection, from_run_id: str, to_run_id: str) -> None:
    """Give `to_run_id` every metric value of `from_run_id` (a reused step's, for its stand-in)."""
    with transaction(conn):
        conn.execute("INSERT INTO metric (run_id, name, kind, seq, value, value_json, logged_at) "
                     "SELECT ?, name, kind, seq, value, value_json, logged_at FROM metric "
                     "WHERE run_id = ?", (to_run_id, from_run_id))
        conn.execute("INSERT OR REPLACE INTO metric_latest (run_id, name, kind, value, value_json, "
                     "count, updated_at) SELECT ?, name, kind, value, value_json, count, updated_at "
                     "FROM metric_latest WHERE run_id = ?", (to_run_id, from_run_id))


def delete_metrics(conn: sqlite3.Connection, run_ids: list[str]) -> None:
    """Forget every metric value of the given runs."""
    marks = ",".join("?" * len(run_ids))
    with transaction(conn):
        conn.execute(f"DELETE FROM metric WHERE run_id IN ({marks})", run_ids)
        conn.execute(f"DELETE FROM metric_latest WHERE run_id IN ({marks})", run_ids)


def _decode(value: float | None, value_json: str | None) -> Any:
    """The Python value stored as (value, value_json)."""
    return json.loads(value_json) if value_json is not None else value


def latest_metrics(conn: sqlite3.Connection, run_ids: list[str]) -> list[LatestMetric]:
    """Latest value and count of every metric of the given runs, by run then name."""
    if not run_ids:
        return []
    marks = ",".join("?" * len(run_ids))
    return [LatestMetric(r[0], r[1], r[2], _decode(r[3], r[4]), r[5], r[6]) for r in conn.execute(
        "SELECT run_id, name, kind, value, value_json, count, updated_at FROM metric_latest "
        f"WHERE run_id IN ({marks}) ORDER BY run_id, name", run_ids)]


def metric_history(conn: sqlite3.Connection, run_id: str, name: str | None = None) -> list[MetricValue]:
    """Every value of a run's metrics (or of one name), by name then logging order."""
    sql = "SELECT run_id, name, kind, seq, value, value_json, logged_at FROM metric WHERE run_id = ?"
    args: tuple = (run_id,)
    if name is not None:
        sql, args = sql + " AND name = ?", (run_id, name)
    return [MetricValue(r[0], r[1], r[2], r[3], _decode(r[4], r[5]), r[6])
            for r in conn.execute(sql + " ORDER BY name, seq", args)]
