"""Pipeline runs and step runs: creating them, moving their status, and reading them back."""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from store import status as st
from store.database import transaction
from store.errors import NotFoundError


@dataclass
class NewPipelineRun:
    """What a client records when it submits a pipeline."""

    id: str
    experiment_id: str
    pipeline_id: str
    run_dir: str
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    continue_on_step_failure: bool = False
    regenerate_outputs: bool = False
    published_pipeline_id: str | None = None
    git_repository: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None


def create_pipeline_run(conn: sqlite3.Connection, run: NewPipelineRun) -> None:
    """Insert a queued pipeline run (status NotStarted)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO pipeline_run (id, experiment_id, pipeline_id, published_pipeline_id, "
            "status, created_at, parameters_json, tags_json, properties_json, "
            "continue_on_step_failure, regenerate_outputs, cancel_requested, git_repository, "
            "git_branch, git_commit, git_dirty, run_dir) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            (run.id, run.experiment_id, run.pipeline_id, run.published_pipeline_id, st.NOT_STARTED,
             time.time(), json.dumps(run.parameters), json.dumps(run.tags),
             json.dumps(run.properties), run.continue_on_step_failure, run.regenerate_outputs,
             run.git_repository, run.git_branch, run.git_commit, run.git_dirty, run.run_dir))


def get_pipeline_run(conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
    """The pipeline run `run_id`, with its experiment name as `experiment_name`."""
    row = conn.execute(
        "SELECT r.*, e.name AS experiment_name FROM pipeline_run r "
        "JOIN experiment e ON e.id = r.experiment_id WHERE r.id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no pipeline run {run_id}")
    return row


def resolve_run_id(conn: sqlite3.Connection, prefix: str) -> str:
    """The full id of the one pipeline run whose id starts with `prefix` ("latest": the newest)."""
    if prefix == "latest":
        row = conn.execute("SELECT id FROM pipeline_run ORDER BY created_at DESC LIMIT 1").fetchone()
        if row is None:
            raise NotFoundError("there are no runs yet (start one with `amlocal run PIPELINE.py`)")
        return row["id"]
    rows = conn.execute("SELECT id FROM pipeline_run WHERE id >= ? AND id < ? LIMIT 2",
                        (prefix, prefix + "\uffff")).fetchall()
    if not rows:
        raise NotFoundError(f"no pipeline run matches {prefix!r} (see `amlocal runs`)")
    if len(rows) > 1:
        raise NotFoundError(f"{prefix!r} matches several runs; give more of the id")
    return rows[0]["id"]


def list_pipeline_runs(conn: sqlite3.Connection, experiment_id: str | None = None,
                       limit: int | None = None) -> list[sqlite3.Row]:
    """Pipeline runs, newest first, with experiment name and step counts."""
    sql = ("SELECT r.*, e.name AS experiment_name FROM pipeline_run r "
           "JOIN experiment e ON e.id = r.experiment_id")
    args: list[Any] = []
    if experiment_id:
        sql += " WHERE r.experiment_id = ?"
        args.append(experiment_id)
    sql += " ORDER BY r.created_at DESC"
    if limit:
        sql += " LIMIT ?"
        args.append(limit)
    return conn.execute(sql, args).fetchall()


def mark_runner_started(conn: sqlite3.Connection, run_id: str, pid: int,
                        create_time: float) -> None:
    """Record the runner process that owns `run_id` and mark the run Running."""
    with transaction(conn):
        conn.execute("UPDATE pipeline_run SET runner_pid = ?, runner_create_time = ?, status = ?, "
                     "start_time = coalesce(start_time, ?) WHERE id = ?",
                     (pid, create_time, st.RUNNING, time.time(), run_id))


def finish_pipeline_run(conn: sqlite3.Connection, run_id: str, status: str,
                        error: str | None = None) -> None:
    """Set the final status of a pipeline run (only if it is not final already)."""
    now = time.time()  # one reading: a run finished at submit starts and ends at once
    with transaction(conn):
        conn.execute("UPDATE pipeline_run SET status = ?, error = coalesce(?, error), "
                     "end_time = ?, start_time = coalesce(start_time, ?) "
                     f"WHERE id = ? AND status IN ({st.ACTIVE_PLACEHOLDERS})",
                     (status, error, now, now, run_id, *sorted(st.ACTIVE)))


def request_cancel(conn: sqlite3.Connection, run_id: str) -> None:
    with transaction(conn):
        conn.execute("UPDATE pipeline_run SET cancel_requested = 1 WHERE id = ?", (run_id,))


def cancel_requested(conn: sqlite3.Connection, run_id: str) -> bool:
    row = conn.execute("SELECT cancel_requested FROM pipeline_run WHERE id = ?",
                       (run_id,)).fetchone()
    return bool(row and row[0])


def update_run_json(conn: sqlite3.Connection, table: str, run_id: str, column: str,
                    values: dict[str, Any]) -> None:
    """Merge `values` into the JSON object in `column` (tags or properties) of a run."""
    if table not in ("pipeline_run", "step_run") or column not in ("tags_json", "properties_json"):
        raise ValueError(f"cannot update {table}.{column}")
    with transaction(conn):
        row = conn.execute(f"SELECT {column} FROM {table} WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id}")
        merged = {**json.loads(row[0]), **values}
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (json.dumps(merged), run_id))


# ----------------------------------------------------------------- step runs

@dataclass
class NewStepRun:
    """A step run as the runner first records it."""

    id: str
    node_id: str
    name: str
    position: int
    run_dir: str
    compute_target: str | None = None


def create_step_runs(conn: sqlite3.Connection, pipeline_run_id: str,
                     steps: Iterable[NewStepRun]) -> None:
    """Insert every step run of a pipeline run, status NotStarted."""
    now = time.time()
    with transaction(conn):
        conn.executemany(
            "INSERT INTO step_run (id, pipeline_run_id, node_id, name, position, status, "
            "created_at, compute_target, arguments_json, outputs_json, properties_json, "
            "tags_json, phases_json, run_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '{}', '{}', '{}', "
            "'{}', ?)",
            [(s.id, pipeline_run_id, s.node_id, s.name, s.position, st.NOT_STARTED, now,
              s.compute_target, s.run_dir) for s in steps])


def update_step_run(conn: sqlite3.Connection, step_run_id: str, **fields: Any) -> None:
    """Set columns of a step run; dict and list values are stored as JSON."""
    allowed = {"status", "start_time", "end_time", "exit_code", "error", "executor",
               "process_id", "process_create_time",
               "snapshot_id", "decision", "reason", "reused_step_run_id", "arguments_json",
               "fingerprint", "fingerprint_json", "phases_json",
               "outputs_json", "properties_json"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown step_run fields {sorted(unknown)}")
    values = [json.dumps(v) if isinstance(v, (dict, list)) else v for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    with transaction(conn):
        conn.execute(f"UPDATE step_run SET {assignments} WHERE id = ?", (*values, step_run_id))


def get_step_runs(conn: sqlite3.Connection, pipeline_run_id: str) -> list[sqlite3.Row]:
    """The step runs of a pipeline run, in the pipeline's dependency order."""
    return conn.execute("SELECT * FROM step_run WHERE pipeline_run_id = ? ORDER BY position",
                        (pipeline_run_id,)).fetchall()


def get_step_run(conn: sqlite3.Connection, step_run_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM step_run WHERE id = ?", (step_run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no step run {step_run_id}")
    return row


def finish_open_step_runs(conn: sqlite3.Connection, pipeline_run_id: str, status: str,
                          error: str) -> None:
    """Give every step run that is not final yet the final `status` and `error`."""
    with transaction(conn):
        conn.execute("UPDATE step_run SET status = ?, error = coalesce(error, ?), "
                     "end_time = CASE WHEN start_time IS NULL THEN NULL ELSE ? END "
                     f"WHERE pipeline_run_id = ? AND status IN ({st.ACTIVE_PLACEHOLDERS})",
                     (status, error, time.time(), pipeline_run_id, *sorted(st.ACTIVE)))
