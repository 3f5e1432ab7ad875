"""Finding runs whose runner died, and cancelling runs politely (ask, wait, kill)."""
from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import psutil

from store import status as st
from store.errors import NotFoundError
from store.runs import (finish_open_step_runs, finish_pipeline_run, get_pipeline_run,
                        get_step_runs, request_cancel)

RUNNER_LOST = "runner lost: the runner process of this run is gone (killed or crashed)"
CANCEL_GRACE_SECONDS = 10.0


def process_alive(pid: int | None, create_time: float | None) -> bool:
    """Whether the process `pid` that started at `create_time` still runs (zombies do not)."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if create_time is not None and abs(proc.create_time() - create_time) > 1.0:
            return False  # the pid was reused by another process
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def kill_process_group(pid: int | None, create_time: float | None, grace: float) -> None:
    """Stop a step's process group: SIGTERM, wait up to `grace` seconds, then SIGKILL."""
    if not process_alive(pid, create_time):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and process_alive(pid, create_time):
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _runner_alive(run: sqlite3.Row, started_grace: float = 30.0) -> bool:
    """Whether the active run `run` has a live runner (a NotStarted run gets `started_grace` s)."""
    if run["status"] not in st.ACTIVE:
        return False
    if run["runner_pid"] is None:
        return time.time() - run["created_at"] < started_grace
    return process_alive(run["runner_pid"], run["runner_create_time"])


def runner_alive(conn: sqlite3.Connection, run_id: str) -> bool:
    """Whether run `run_id` is active and its runner process still runs (or may still start)."""
    try:
        return _runner_alive(get_pipeline_run(conn, run_id))
    except NotFoundError:
        return False


def _remove_step_containers(run: sqlite3.Row) -> None:
    """Remove the containers of a lost run's Docker steps (a container has no pid of ours)."""
    from runner.errors import RunnerError
    from runner.executors.docker import remove_containers
    workspace_root = Path(run["run_dir"]).parents[1]  # <root>/runs/<run id>
    try:
        remove_containers(workspace_root, keep_run=lambda rid: rid != run["id"])
    except RunnerError:
        pass  # no engine now: the next Docker runner start removes them


def reconcile_run(conn: sqlite3.Connection, run_id: str, started_grace: float = 30.0) -> bool:
    """Mark `run_id` failed with "runner lost" if its runner is gone; True when it did.

    A run still NotStarted gets `started_grace` seconds for its runner to come up.
    """
    run = get_pipeline_run(conn, run_id)
    if run["status"] not in st.ACTIVE or _runner_alive(run, started_grace):
        return False
    steps = get_step_runs(conn, run_id)
    for step in steps:
        if step["status"] in st.ACTIVE and step["process_id"]:
            kill_process_group(step["process_id"], step["process_create_time"], grace=1.0)
    if any(step["status"] in st.ACTIVE and step["executor"] == "docker" for step in steps):
        _remove_step_containers(run)
    finish_open_step_runs(conn, run_id, st.FAILED, RUNNER_LOST)
    finish_pipeline_run(conn, run_id, st.FAILED, RUNNER_LOST)
    return True


def reconcile_active_runs(conn: sqlite3.Connection) -> int:
    """Reconcile every active run; returns how many were found lost."""
    rows = conn.execute(f"SELECT id FROM pipeline_run WHERE status IN ({st.ACTIVE_PLACEHOLDERS})",
                        tuple(sorted(st.ACTIVE))).fetchall()
    return sum(reconcile_run(conn, r["id"]) for r in rows)


def cancel_run(conn: sqlite3.Connection, run_id: str) -> str:
    """Ask the runner of `run_id` to cancel; returns what was done, in words."""
    run = get_pipeline_run(conn, run_id)
    if run["status"] in st.TERMINAL:
        return f"run {run_id} is already {run['status']}"
    request_cancel(conn, run_id)
    if process_alive(run["runner_pid"], run["runner_create_time"]):
        try:
            os.kill(run["runner_pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
        return f"cancel requested for run {run_id}"
    if run["runner_pid"] is None:
        finish_open_step_runs(conn, run_id, st.CANCELED, "canceled before it started")
        finish_pipeline_run(conn, run_id, st.CANCELED, "canceled before it started")
        return f"run {run_id} canceled before it started"
    reconcile_run(conn, run_id)
    return f"run {run_id} had lost its runner; marked Failed"
