"""Runs waiting in the workspace service's queue: status Queued, owned by the service.

A REST submit records its run (`NewPipelineRun.queued_by`) and answers at once; the service
starts the run's runner when one of its slots is free. While it waits the run is `Queued` and
its `runner_pid` is the service's, so liveness sees a live owner and a dead service's runs
are found lost (or taken over by the next service). The runner claims the run when it
starts (`mark_runner_started` moves it to Running only while it is active), so a run
canceled in the queue never starts.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Mapping

from store import status as st
from store.database import transaction
from store.runs import finish_open_step_runs, finish_pipeline_run

CANCELED_IN_QUEUE = "canceled before it started (it was waiting in the service's queue)"


@dataclass(frozen=True)
class QueuedRun:
    """A run waiting in a service's queue, and the process that owns it."""

    id: str
    owner_pid: int | None
    owner_create_time: float | None
    created_at: float


def queued_runs(conn: sqlite3.Connection, limit: int = -1) -> list[QueuedRun]:
    """The queued runs, oldest first (the order the queue starts them in); at most `limit`
    (-1: all)."""
    rows = conn.execute("SELECT id, runner_pid, runner_create_time, created_at FROM pipeline_run "
                        "WHERE status = ? ORDER BY created_at, rowid LIMIT ?",
                        (st.QUEUED, limit)).fetchall()
    return [QueuedRun(r[0], r[1], r[2], r[3]) for r in rows]


def take_over_queued(conn: sqlite3.Connection, run_id: str, dead_pid: int | None,
                     owner_pid: int, owner_create_time: float) -> bool:
    """Make `owner_pid` the owner of queued run `run_id` whose owner `dead_pid` is gone; False
    when the run is no longer queued under that owner (another service took it, or it ended)."""
    with transaction(conn):
        done = conn.execute("UPDATE pipeline_run SET runner_pid = ?, runner_create_time = ? "
                            "WHERE id = ? AND status = ? AND runner_pid IS ?",
                            (owner_pid, owner_create_time, run_id, st.QUEUED, dead_pid))
    return done.rowcount == 1


def still_queued(conn: sqlite3.Connection, run_id: str) -> bool:
    """Whether `run_id` is still waiting in a queue (no runner has claimed it)."""
    row = conn.execute("SELECT status FROM pipeline_run WHERE id = ?", (run_id,)).fetchone()
    return row is not None and row[0] == st.QUEUED


def end_queued_run(conn: sqlite3.Connection, run_id: str, status: str, reason: str) -> bool:
    """End the queued run `run_id` and its steps with `status` and `reason`; False when it was
    not queued any more (a runner had claimed it, or it had ended)."""
    with transaction(conn):
        if not finish_pipeline_run(conn, run_id, status, reason, only_from=frozenset({st.QUEUED})):
            return False
        finish_open_step_runs(conn, run_id, status, reason)  # joins this transaction
    return True


def record_git_facts(conn: sqlite3.Connection, run_id: str, repository: str | None,
                     branch: str | None, commit: str | None, dirty: bool | None,
                     properties: Mapping[str, str]) -> None:
    """Record the git facts of a run read after it was queued (its `azureml.git.*`
    properties merged into the ones it has)."""
    with transaction(conn):
        row = conn.execute("SELECT properties_json FROM pipeline_run WHERE id = ?",
                           (run_id,)).fetchone()
        if row is None:
            return
        merged = {**dict(properties), **json.loads(row[0])}
        conn.execute("UPDATE pipeline_run SET git_repository = ?, git_branch = ?, git_commit = ?, "
                     "git_dirty = ?, properties_json = ? WHERE id = ?",
                     (repository, branch, commit, dirty, json.dumps(merged), run_id))
