"""Finding runs whose runner died, finishing them as the runner would have, and cancelling
runs politely (ask, wait, kill)."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time

from runner.errors import RunnerError
from runner.executors.processes import process_alive
from store import status as st
from store.layout import StepRunFiles, WorkspaceLayout
from store.nofollow import UnsafeFileError
from store.records import PipelineRunRecord, StepRunRecord
from store.run_queue import CANCELED_IN_QUEUE, end_queued_run
from store.runs import (active_run_ids, find_pipeline_run, finish_open_step_runs,
                        finish_pipeline_run, get_pipeline_run, get_step_runs, request_cancel,
                        update_step_run)
from store.service_record import service_lock_held

RUNNER_LOST = "runner lost: the runner process of this run is gone (killed or crashed)"
QUEUE_LOST = ("the workspace service that queued this run stopped before starting it; "
              "submit it again")
STARTED_GRACE_SECONDS = 30.0


def _runner_alive(run: PipelineRunRecord, started_grace: float = STARTED_GRACE_SECONDS) -> bool:
    """Whether the active run `run` has a live runner (a NotStarted run gets `started_grace` s)."""
    if run.status not in st.ACTIVE:
        return False
    if run.runner_pid is None:
        return time.time() - run.created_at < started_grace
    return process_alive(run.runner_pid, run.runner_create_time)


def runner_alive(conn: sqlite3.Connection, run_id: str) -> bool:
    """Whether run `run_id` is active and its runner process still runs (or may still start)."""
    run = find_pipeline_run(conn, run_id)
    return run is not None and _runner_alive(run)


def reconcile_run(conn: sqlite3.Connection, layout: WorkspaceLayout, run_id: str,
                  started_grace: float = STARTED_GRACE_SECONDS) -> bool:
    """Mark `run_id` failed with "runner lost" if its runner is gone, stopping what its steps
    left running; True when it did. A NotStarted run gets `started_grace` s to come up."""
    run = get_pipeline_run(conn, run_id)
    if run.status not in st.ACTIVE or _runner_alive(run, started_grace):
        return False
    if run.status == st.QUEUED:  # its service is gone; a service running now takes it over
        if service_lock_held(layout):
            return False
        return end_queued_run(conn, run_id, st.FAILED, QUEUE_LOST)
    active = [s for s in get_step_runs(conn, run_id) if s.status in st.ACTIVE and s.executor]
    if active:  # only then: `amlocal runs` reconciles every active run and should stay light
        from runner.executors.registry import make_executor
    stopped = set()
    for name in sorted({s.executor for s in active if s.executor}):
        try:
            make_executor(name, layout, may_build=False).stop_lost_steps(
                run_id, [s for s in active if s.executor == name])
            stopped.add(name)
        except RunnerError:
            pass  # e.g. no engine now: the next Docker runner start removes the containers
    for step in active:
        if step.executor in stopped:
            take_in_lost_step(conn, layout, run_id, step)
    finish_open_step_runs(conn, run_id, st.FAILED, RUNNER_LOST)
    finish_pipeline_run(conn, run_id, st.FAILED, RUNNER_LOST)
    return True


def take_in_lost_step(conn: sqlite3.Connection, layout: WorkspaceLayout, run_id: str,
                      step: StepRunRecord) -> None:
    """What the runner would have done when the (now stopped) step ended: store the rest of
    its event file (from the offset the runner reached, so nothing twice), keep its
    `./outputs` and `./logs` as artifacts, and remove its working copy. A link or special
    file it left there is named in the step's error instead of being followed."""
    files = StepRunFiles(step.run_dir)
    if not files.workdir.is_dir() or files.workdir.is_symlink():
        return  # it never started (or the runner had already taken it in)
    from runner.engine.ingest import EventIngestor
    from runner.engine.step_outputs import collect_artifacts
    EventIngestor(conn, files.events, step.id, run_id,
                  {step.id: files.artifacts, run_id: layout.run_artifacts_dir(run_id)}).poll()
    try:
        collect_artifacts(conn, step.id, files)
    except UnsafeFileError as exc:
        update_step_run(conn, step.id, status=st.FAILED, error=f"{RUNNER_LOST}; {exc}",
                        end_time=time.time())
    shutil.rmtree(files.workdir, ignore_errors=True)  # never follows a link inside it


def reconcile_active_runs(conn: sqlite3.Connection, layout: WorkspaceLayout) -> int:
    """Reconcile every active run; returns how many were found lost."""
    return sum(reconcile_run(conn, layout, run_id) for run_id in active_run_ids(conn))


def cancel_run(conn: sqlite3.Connection, layout: WorkspaceLayout, run_id: str) -> str:
    """Ask the runner of `run_id` to cancel; returns what was done, in words."""
    run = get_pipeline_run(conn, run_id)
    if run.status in st.TERMINAL:
        return f"run {run_id} is already {run.status}"
    request_cancel(conn, run_id)
    if run.status == st.QUEUED:  # its owner is the service's queue, never to be signalled
        if end_queued_run(conn, run_id, st.CANCELED, CANCELED_IN_QUEUE):
            return f"run {run_id} canceled before it started"
        run = get_pipeline_run(conn, run_id)  # a runner claimed it meanwhile: ask that one
        if run.status in st.TERMINAL:
            return f"run {run_id} is already {run.status}"
    if process_alive(run.runner_pid, run.runner_create_time):
        try:
            os.kill(run.runner_pid, signal.SIGTERM)  # type: ignore[arg-type]
        except ProcessLookupError:
            pass
        return f"cancel requested for run {run_id}"
    if run.runner_pid is None:
        finish_open_step_runs(conn, run_id, st.CANCELED, "canceled before it started")
        finish_pipeline_run(conn, run_id, st.CANCELED, "canceled before it started")
        return f"run {run_id} canceled before it started"
    reconcile_run(conn, layout, run_id)
    return f"run {run_id} had lost its runner; marked Failed"
