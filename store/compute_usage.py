"""Which step runs a compute target has: its active runs, and the nodes they occupy
(`AmlCompute.get_status()`, `get_active_runs()`, `list_nodes()`)."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from store import status as st


@dataclass
class StepRunOnTarget:
    """A step run placed on a compute target."""

    id: str
    pipeline_run_id: str
    name: str
    status: str
    start_time: float | None
    experiment_name: str


def active_step_runs_on(conn: sqlite3.Connection, target: str) -> list[StepRunOnTarget]:
    """The step runs of `target` that have not ended, oldest first."""
    rows = conn.execute(
        "SELECT s.id, s.pipeline_run_id, s.name, s.status, s.start_time, e.name AS experiment_name "
        "FROM step_run s JOIN pipeline_run r ON r.id = s.pipeline_run_id "
        "JOIN experiment e ON e.id = r.experiment_id "
        f"WHERE s.compute_target = ? AND s.status IN ({st.ACTIVE_PLACEHOLDERS}) "
        "ORDER BY s.created_at", (target, *sorted(st.ACTIVE))).fetchall()
    return [StepRunOnTarget(r["id"], r["pipeline_run_id"], r["name"], r["status"], r["start_time"],
                            r["experiment_name"]) for r in rows]
