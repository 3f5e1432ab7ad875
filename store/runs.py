"""Pipeline runs and step runs: creating them, moving their status, and reading them back."""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from store import status as st
from store.database import transaction
from store.errors import NotFoundError
from store.records import (PipelineRunRecord, PipelineSummary, RunListing, StepRunRecord,
                           StoredOutput, outputs_to_json)

_RUN_SELECT = ("SELECT r.*, e.name AS experiment_name, p.name AS pipeline_name FROM pipeline_run r "
               "JOIN experiment e ON e.id = r.experiment_id JOIN pipeline p ON p.id = r.pipeline_id")


@dataclass(frozen=True)
class NewPipelineRun:
    """What a client records when it submits a pipeline (its options as columns)."""

    id: str
    experiment_id: str
    pipeline_id: str
    run_dir: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    continue_on_step_failure: bool = False
    regenerate_outputs: bool = False
    published_pipeline_id: str | None = None
    git_repository: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    script: str | None = None
    executor: str | None = None
    base_image: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_name: str | None = None
    forced: Mapping[str, Any] = field(default_factory=dict)  # {"nodes": [...], "reason": ...}
    # (pid, create time) of the service whose queue it waits in (status Queued); None: NotStarted
    queued_by: tuple[int, float] | None = None


@dataclass(frozen=True)
class NewStepRun:
    """A step run as it is first recorded (status NotStarted)."""

    id: str
    node_id: str
    name: str
    position: int
    run_dir: str
    compute_target: str | None = None


def create_pipeline_run(conn: sqlite3.Connection, run: NewPipelineRun,
                        steps: Iterable[NewStepRun] = ()) -> None:
    """Insert a new pipeline run (status NotStarted, or Queued under the service `queued_by`)
    and its step runs, in one transaction."""
    now = time.time()
    owner_pid, owner_time = run.queued_by or (None, None)
    with transaction(conn):
        conn.execute(
            "INSERT INTO pipeline_run (id, experiment_id, pipeline_id, published_pipeline_id, "
            "status, created_at, parameters_json, tags_json, properties_json, "
            "continue_on_step_failure, regenerate_outputs, cancel_requested, git_repository, "
            "git_branch, git_commit, git_dirty, run_dir, script_path, executor, base_image, "
            "subscription_id, resource_group, workspace_name, forced_json, runner_pid, "
            "runner_create_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run.id, run.experiment_id, run.pipeline_id, run.published_pipeline_id,
             st.QUEUED if run.queued_by else st.NOT_STARTED,
             now, json.dumps(dict(run.parameters)), json.dumps(dict(run.tags)),
             json.dumps(dict(run.properties)), run.continue_on_step_failure,
             run.regenerate_outputs, run.git_repository, run.git_branch, run.git_commit,
             run.git_dirty, run.run_dir, run.script, run.executor, run.base_image,
             run.subscription_id, run.resource_group, run.workspace_name,
             json.dumps(dict(run.forced)), owner_pid, owner_time))
        conn.executemany(
            "INSERT INTO step_run (id, pipeline_run_id, node_id, name, position, status, "
            "created_at, compute_target, arguments_json, outputs_json, properties_json, "
            "tags_json, phases_json, events_offset, run_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', "
            "'{}', '{}', '{}', '{}', 0, ?)",
            [(s.id, run.id, s.node_id, s.name, s.position, st.NOT_STARTED, now, s.compute_target,
              s.run_dir) for s in steps])


def get_pipeline_run(conn: sqlite3.Connection, run_id: str) -> PipelineRunRecord:
    """The pipeline run `run_id`."""
    row = conn.execute(_RUN_SELECT + " WHERE r.id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no pipeline run {run_id}")
    return PipelineRunRecord.of(row)


def find_pipeline_run(conn: sqlite3.Connection, run_id: str) -> PipelineRunRecord | None:
    """The pipeline run `run_id`, or None when there is none."""
    row = conn.execute(_RUN_SELECT + " WHERE r.id = ?", (run_id,)).fetchone()
    return PipelineRunRecord.of(row) if row is not None else None


def run_status(conn: sqlite3.Connection, run_id: str) -> str:
    """Just the status of pipeline run `run_id` (cheap: loops poll it)."""
    row = conn.execute("SELECT status FROM pipeline_run WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no pipeline run {run_id}")
    return row[0]


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
                       limit: int | None = None, statuses: Sequence[str] = (),
                       since: float | None = None) -> list[PipelineRunRecord]:
    """Pipeline runs, newest first: of one experiment, with one of `statuses`, created at or
    after `since` (a Unix time), each when given; `limit` counts what is left."""
    where, args = [], []
    if experiment_id:
        where.append("r.experiment_id = ?")
        args.append(experiment_id)
    if statuses:
        where.append(f"r.status IN ({', '.join('?' * len(statuses))})")
        args.extend(statuses)
    if since is not None:
        where.append("r.created_at >= ?")
        args.append(since)
    sql = _RUN_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY r.created_at DESC"
    if limit:
        sql += " LIMIT ?"
        args.append(limit)
    return [PipelineRunRecord.of(row) for row in conn.execute(sql, args)]


def active_run_ids(conn: sqlite3.Connection) -> list[str]:
    """Ids of the runs that have not ended."""
    return [row[0] for row in conn.execute(
        f"SELECT id FROM pipeline_run WHERE status IN ({st.ACTIVE_PLACEHOLDERS})",
        tuple(sorted(st.ACTIVE)))]


def pipeline_summaries(conn: sqlite3.Connection, recent: int) -> list[PipelineSummary]:
    """Every pipeline (by name) with its latest run and its `recent` latest runs' durations,
    the most recently run first."""
    rows = conn.execute(
        "SELECT * FROM (SELECT r.*, e.name AS experiment_name, p.name AS pipeline_name, "
        "count(*) OVER (PARTITION BY p.name) AS runs, "
        "row_number() OVER (PARTITION BY p.name ORDER BY r.created_at DESC) AS rn "
        "FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id "
        "JOIN experiment e ON e.id = r.experiment_id) WHERE rn <= ? ORDER BY created_at DESC",
        (recent,)).fetchall()
    grouped: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        grouped.setdefault(row["pipeline_name"], []).append(row)
    return [PipelineSummary(name, PipelineRunRecord.of(runs[0]), runs[0]["runs"],
                            tuple(r["end_time"] - r["start_time"] for r in reversed(runs)
                                  if r["start_time"] and r["end_time"]))
            for name, runs in grouped.items()]


def runs_of_pipeline(conn: sqlite3.Connection, pipeline_name: str, limit: int) -> list[RunListing]:
    """The runs of pipelines named `pipeline_name`, newest first, with their reuse counts."""
    rows = conn.execute(
        "SELECT r.*, e.name AS experiment_name, p.name AS pipeline_name, "
        "(SELECT count(*) FROM step_run s WHERE s.pipeline_run_id = r.id AND s.decision = 'reused') "
        "AS reused, (SELECT count(*) FROM step_run s WHERE s.pipeline_run_id = r.id) AS steps "
        "FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id "
        "JOIN experiment e ON e.id = r.experiment_id WHERE p.name = ? "
        "ORDER BY r.created_at DESC LIMIT ?", (pipeline_name, limit)).fetchall()
    return [RunListing(PipelineRunRecord.of(r), r["steps"], r["reused"]) for r in rows]


def mark_runner_started(conn: sqlite3.Connection, run_id: str, pid: int,
                        create_time: float) -> bool:
    """Record the runner process that owns `run_id` and mark the run Running; False (nothing
    changed) when the run has ended already, e.g. canceled while it waited in a queue."""
    with transaction(conn):
        done = conn.execute(
            "UPDATE pipeline_run SET runner_pid = ?, runner_create_time = ?, status = ?, "
            f"start_time = coalesce(start_time, ?) WHERE id = ? AND status IN ({st.ACTIVE_PLACEHOLDERS})",
            (pid, create_time, st.RUNNING, time.time(), run_id, *sorted(st.ACTIVE)))
    return done.rowcount == 1


def finish_pipeline_run(conn: sqlite3.Connection, run_id: str, status: str,
                        error: str | None = None,
                        only_from: frozenset[str] = st.ACTIVE) -> bool:
    """Set the final status of a pipeline run, only if its status is one of `only_from` (by
    default: it is not final already); True when it was set."""
    now = time.time()  # one reading: a run finished at submit starts and ends at once
    with transaction(conn):
        done = conn.execute(
            "UPDATE pipeline_run SET status = ?, error = coalesce(?, error), end_time = ?, "
            f"start_time = coalesce(start_time, ?) WHERE id = ? AND status IN "
            f"({', '.join('?' * len(only_from))})",
            (status, error, now, now, run_id, *sorted(only_from)))
    return done.rowcount == 1


def request_cancel(conn: sqlite3.Connection, run_id: str) -> None:
    """Note that the user asked to cancel `run_id` (its runner polls for it)."""
    with transaction(conn):
        conn.execute("UPDATE pipeline_run SET cancel_requested = 1 WHERE id = ?", (run_id,))


def cancel_requested(conn: sqlite3.Connection, run_id: str) -> bool:
    """Whether a cancel of `run_id` was asked for."""
    row = conn.execute("SELECT cancel_requested FROM pipeline_run WHERE id = ?",
                       (run_id,)).fetchone()
    return bool(row and row[0])


def merge_run_json(conn: sqlite3.Connection, run_id: str, column: str,
                   values: Mapping[str, str]) -> None:
    """Merge `values` into the tags or properties (`column`) of a pipeline run or step run."""
    if column not in ("tags", "properties"):
        raise ValueError(f"cannot update {column} of a run")
    with transaction(conn):
        for table in ("pipeline_run", "step_run"):
            row = conn.execute(f"SELECT {column}_json FROM {table} WHERE id = ?", (run_id,)).fetchone()
            if row is not None:
                merged = {**json.loads(row[0]), **values}
                conn.execute(f"UPDATE {table} SET {column}_json = ? WHERE id = ?",
                             (json.dumps(merged), run_id))
                return
    raise NotFoundError(f"no run {run_id}")


# ----------------------------------------------------------------- step runs

_STEP_FIELDS = {"status", "start_time", "end_time", "exit_code", "error", "executor",
                "process_id", "process_create_time", "snapshot_id", "decision", "reason",
                "reused_step_run_id", "fingerprint"}


def update_step_run(conn: sqlite3.Connection, step_run_id: str, *,
                    arguments: Iterable[str] | None = None,
                    outputs: Mapping[str, StoredOutput] | None = None,
                    properties: Mapping[str, str] | None = None,
                    phases: Mapping[str, float] | None = None,
                    fingerprint_fields: Mapping[str, Any] | None = None,
                    fingerprint_about: Mapping[str, Any] | None = None,
                    **fields: Any) -> None:
    """Set columns of a step run; the structured ones are given as values and kept as JSON."""
    unknown = set(fields) - _STEP_FIELDS
    if unknown:
        raise ValueError(f"unknown step_run fields {sorted(unknown)}")
    columns = dict(fields)
    if arguments is not None:
        columns["arguments_json"] = json.dumps(list(arguments))
    if outputs is not None:
        columns["outputs_json"] = json.dumps(outputs_to_json(outputs))
    if properties is not None:
        columns["properties_json"] = json.dumps(dict(properties))
    if phases is not None:
        columns["phases_json"] = json.dumps(dict(phases))
    if fingerprint_fields is not None:
        columns["fingerprint_json"] = json.dumps(
            {"fields": fingerprint_fields, "about": fingerprint_about or {}}, default=str)
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with transaction(conn):
        conn.execute(f"UPDATE step_run SET {assignments} WHERE id = ?", (*columns.values(), step_run_id))


def get_step_runs(conn: sqlite3.Connection, pipeline_run_id: str) -> list[StepRunRecord]:
    """The step runs of a pipeline run, in the pipeline's dependency order."""
    return [StepRunRecord.of(row) for row in conn.execute(
        "SELECT * FROM step_run WHERE pipeline_run_id = ? ORDER BY position", (pipeline_run_id,))]


def get_step_run(conn: sqlite3.Connection, step_run_id: str) -> StepRunRecord:
    """The step run `step_run_id`."""
    row = conn.execute("SELECT * FROM step_run WHERE id = ?", (step_run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no step run {step_run_id}")
    return StepRunRecord.of(row)


def find_step_run(conn: sqlite3.Connection, step_run_id: str) -> StepRunRecord | None:
    """The step run `step_run_id`, or None when there is none."""
    row = conn.execute("SELECT * FROM step_run WHERE id = ?", (step_run_id,)).fetchone()
    return StepRunRecord.of(row) if row is not None else None


def reusable_step_runs(conn: sqlite3.Connection, fingerprint: str,
                       other_than_run: str) -> list[StepRunRecord]:
    """Finished step runs with `fingerprint` that ran themselves (not reused), outside run
    `other_than_run`, newest first: the candidates a step may reuse."""
    return [StepRunRecord.of(row) for row in conn.execute(
        "SELECT * FROM step_run WHERE fingerprint = ? AND status = ? "
        "AND reused_step_run_id IS NULL AND pipeline_run_id != ? ORDER BY end_time DESC",
        (fingerprint, st.FINISHED, other_than_run))]


def closest_earlier_step_run(conn: sqlite3.Connection, name: str, step_run_id: str,
                             experiment_name: str) -> StepRunRecord | None:
    """The newest step run called `name`, with a fingerprint, recorded before `step_run_id`
    (one of experiment `experiment_name` first): what `why` compares a step with."""
    row = conn.execute(
        "SELECT s.* FROM step_run s JOIN pipeline_run p ON p.id = s.pipeline_run_id "
        "JOIN experiment e ON e.id = p.experiment_id "
        "WHERE s.name = ? AND s.fingerprint_json IS NOT NULL AND s.id != ? "
        "AND s.created_at <= coalesce((SELECT created_at FROM step_run WHERE id = ?), ?) "
        "ORDER BY (e.name = ?) DESC, s.created_at DESC LIMIT 1",
        (name, step_run_id, step_run_id, time.time(), experiment_name)).fetchone()
    return StepRunRecord.of(row) if row is not None else None


def finish_open_step_runs(conn: sqlite3.Connection, pipeline_run_id: str, status: str,
                          error: str) -> None:
    """Give every step run that is not final yet the final `status` and `error`."""
    with transaction(conn):
        conn.execute("UPDATE step_run SET status = ?, error = coalesce(error, ?), "
                     "end_time = CASE WHEN start_time IS NULL THEN NULL ELSE ? END "
                     f"WHERE pipeline_run_id = ? AND status IN ({st.ACTIVE_PLACEHOLDERS})",
                     (status, error, time.time(), pipeline_run_id, *sorted(st.ACTIVE)))



def events_offset(conn: sqlite3.Connection, step_run_id: str) -> int:
    """How many bytes of the step run's event file are already stored."""
    row = conn.execute("SELECT events_offset FROM step_run WHERE id = ?", (step_run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no step run {step_run_id}")
    return row[0]


def advance_events_offset(conn: sqlite3.Connection, step_run_id: str, start: int, end: int) -> bool:
    """Move the step run's ingested offset from `start` to `end`; False when it was no longer
    `start` (someone else ingested those bytes). Called inside the transaction that stores
    what the bytes held, so an event is stored exactly once whoever ingests it."""
    with transaction(conn):
        moved = conn.execute("UPDATE step_run SET events_offset = ? WHERE id = ? AND events_offset = ?",
                             (end, step_run_id, start)).rowcount
    return moved == 1
