"""The runner process: `python -m runner.engine.runner_process WORKSPACE_ROOT RUN_ID`.

Started detached by a submitting client (`start_runner`); executes one pipeline run with the
executor the run records, and records everything. SIGTERM (what `amlocal cancel` sends) stops
the run politely.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from runner.engine.liveness import runner_alive
from runner.engine.run_execution import PipelineRunExecution
from runner.errors import RunnerError
from runner.executors.base import Executor
from runner.executors.registry import make_executor
from runner.paths import PACKAGE_PARENT
from store import status as st
from store.disk_space import SpaceReserve, is_disk_full, no_space_message
from store.runs import finish_open_step_runs, finish_pipeline_run, get_pipeline_run
from store.workspace import OpenWorkspace, open_workspace_at


def executor_for_run(local: OpenWorkspace, run_id: str) -> Executor:
    """The executor recorded for `run_id` at submit, with what dead runs left behind removed."""
    run = get_pipeline_run(local.conn, run_id)
    executor = make_executor(run.executor or "local", local.layout, run.base_image)
    removed = executor.reap_orphans(lambda rid: rid == run_id or (
        rid is not None and runner_alive(local.conn, rid)))
    if removed:
        print(f"amlocal runner: removed {len(removed)} container(s) left by dead runners",
              file=sys.stderr)
    return executor


def fail_run(local: OpenWorkspace, run_id: str, error: str) -> None:
    """End `run_id` and its unfinished steps as Failed with `error`."""
    finish_open_step_runs(local.conn, run_id, st.FAILED, error)
    finish_pipeline_run(local.conn, run_id, st.FAILED, error)


def execute_run(local: OpenWorkspace, run_id: str, execution: PipelineRunExecution) -> str:
    """Execute a run; a crash of ours fails the run with its reason instead of leaving it
    Running under a live runner (this process may be a watcher that goes on). A full disk is
    said in one line, after giving up the space reserve so that the failure can be recorded;
    if even that cannot be written, whoever finds the runner gone fails the run later."""
    try:
        return execution.execute()
    except BaseException as exc:
        if is_disk_full(exc):
            SpaceReserve(local.layout.root).release()
            reason = no_space_message(local.layout.root, "recording the run")
        else:
            traceback.print_exc()
            reason = f"runner crashed: {type(exc).__name__}: {exc}"
        print(f"amlocal runner: run {run_id} failed: {reason}", file=sys.stderr)
        try:
            fail_run(local, run_id, reason)
        except Exception as again:
            if not is_disk_full(again):
                raise
            print(f"amlocal runner: could not record it: {again}", file=sys.stderr)
        return st.FAILED


def start_runner(local: OpenWorkspace, run_id: str) -> int:
    """Start the detached runner process of `run_id`; returns its pid."""
    log = open(local.layout.runner_log(run_id), "ab")
    try:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner.engine.runner_process", str(local.layout.root), run_id],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            close_fds=True, cwd=str(local.layout.pipeline_run_dir(run_id)), env=env)
    finally:
        log.close()
    # Reap the runner when it ends, so a long-lived client leaves no zombie behind.
    threading.Thread(target=proc.wait, name=f"reap-runner-{run_id[:8]}", daemon=True).start()
    return proc.pid


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m runner.engine.runner_process WORKSPACE_ROOT RUN_ID", file=sys.stderr)
        return 2
    root, run_id = Path(args[0]), args[1]
    local = open_workspace_at(root)
    try:
        executor = executor_for_run(local, run_id)
    except RunnerError as exc:
        fail_run(local, run_id, str(exc))
        local.close()
        print(f"amlocal runner: {exc}", file=sys.stderr)
        return 1
    execution = PipelineRunExecution(local, run_id, executor)
    signal.signal(signal.SIGTERM, lambda *_: execution.request_stop("canceled by user"))
    signal.signal(signal.SIGINT, lambda *_: execution.request_stop("canceled by user"))
    try:
        status = execute_run(local, run_id, execution)
    finally:
        local.close()
    return 0 if status == st.FINISHED else 1


if __name__ == "__main__":
    sys.exit(main())
