"""Run numbers: a pipeline run's place among its experiment's runs (`run.number` in the SDK)."""
from __future__ import annotations

import sqlite3

from store.errors import NotFoundError


def pipeline_run_number(conn: sqlite3.Connection, run_id: str) -> int:
    """1 for an experiment's first pipeline run, 2 for the next, … (in order of submission)."""
    row = conn.execute(
        "SELECT count(*) FROM pipeline_run r JOIN pipeline_run me ON me.id = ? "
        "WHERE r.experiment_id = me.experiment_id AND "
        "(r.created_at < me.created_at OR (r.created_at = me.created_at AND r.id <= me.id))",
        (run_id,)).fetchone()
    if not row or not row[0]:
        raise NotFoundError(f"no pipeline run {run_id}")
    return int(row[0])


def next_run_number(conn: sqlite3.Connection, experiment_id: str) -> int:
    """The number the experiment's next pipeline run will have (what a watcher's head start
    prepares a step with before the run is recorded)."""
    row = conn.execute("SELECT count(*) FROM pipeline_run WHERE experiment_id = ?",
                       (experiment_id,)).fetchone()
    return int(row[0]) + 1
