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
from typing import Callable

import psutil

from runner.engine.liveness import runner_alive
from runner.engine.run_execution import PipelineRunExecution
from runner.engine.submit_plan import prepare_queued_run
from runner.errors import RunnerError
from runner.executors.base import Executor
from runner.executors.registry import make_executor
from runner.paths import PACKAGE_PARENT
from store import status as st
from store.disk_space import SpaceReserve, is_disk_full, no_space_message
from store.runs import finish_open_step_runs, finish_pipeline_run, get_pipeline_run
from store.workspace import OpenWorkspace, open_workspace_at


def executor_for_run(local: OpenWorkspace, run_id: str, reap: bool = True) -> Executor:
    """The executor recorded for `run_id` at submit, with what dead runs left behind removed
    (unless `reap` is False: a watcher reaps before its first rerun, not before each one)."""
    run = get_pipeline_run(local.conn, run_id)
    executor = make_executor(run.executor or "local", local.layout, run.base_image)
    if not reap:
        return executor
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


def lower_priority(pid: int, niceness: int) -> None:
    """Give process `pid` (which leads a session of its own) the CPU priority `niceness`.

    With the kernel's autogroup scheduling (the default on desktop and many server kernels) a
    nice value only counts inside the process's session group, and every group gets an
    equal share; so the group's own nice value is set as well (`/proc/PID/autogroup`)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except OSError:
        return  # it has already exited: nothing to lower
    try:
        with open(f"/proc/{pid}/autogroup", "w") as group:
            group.write(str(niceness))
    except OSError:
        pass  # no autogroups here (or not ours to change): the nice value alone counts


def start_runner(local: OpenWorkspace, run_id: str,
                 on_exit: Callable[[int], None] | None = None, niceness: int = 0) -> int:
    """Start the detached runner process of `run_id`; returns its pid. `on_exit(returncode)`
    is called (in another thread) when it ends; `niceness` lowers its CPU priority (and its
    step processes'), as the workspace service does so that it keeps answering under load."""
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
    if niceness:
        lower_priority(proc.pid, niceness)

    def reap() -> None:  # so a long-lived client leaves no zombie behind
        code = proc.wait()
        if on_exit is not None:
            on_exit(code)

    threading.Thread(target=reap, name=f"reap-runner-{run_id[:8]}", daemon=True).start()
    return proc.pid


def _prepare_if_queued(local: OpenWorkspace, run_id: str) -> str | None:
    """For a run the workspace service queued, claim it and do what its submit left for
    later; the status it ended with, or None when it is to be executed (see submit_plan)."""
    if get_pipeline_run(local.conn, run_id).status != st.QUEUED:
        return None
    me = psutil.Process()
    try:
        return prepare_queued_run(local, run_id, me.pid, me.create_time())
    except RunnerError:
        raise
    except Exception as exc:  # noqa: BLE001 - the run ends with the reason, not Running for ever
        raise RunnerError(f"could not start the run: {type(exc).__name__}: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m runner.engine.runner_process WORKSPACE_ROOT RUN_ID", file=sys.stderr)
        return 2
    root, run_id = Path(args[0]), args[1]
    local = open_workspace_at(root)
    asked: list[str] = []  # a cancel that comes before the execution exists
    signal.signal(signal.SIGTERM, lambda *_: asked.append("canceled by user"))
    signal.signal(signal.SIGINT, lambda *_: asked.append("canceled by user"))
    try:
        ended = _prepare_if_queued(local, run_id)
        if ended is not None:
            local.close()
            return 0 if ended == st.FINISHED else 1
        executor = executor_for_run(local, run_id)
    except RunnerError as exc:
        fail_run(local, run_id, str(exc))
        local.close()
        print(f"amlocal runner: {exc}", file=sys.stderr)
        return 1
    execution = PipelineRunExecution(local, run_id, executor)
    signal.signal(signal.SIGTERM, lambda *_: execution.request_stop("canceled by user"))
    signal.signal(signal.SIGINT, lambda *_: execution.request_stop("canceled by user"))
    if asked:
        execution.request_stop(asked[0])
    try:
        status = execute_run(local, run_id, execution)
    finally:
        local.close()
    return 0 if status == st.FINISHED else 1


if __name__ == "__main__":
    sys.exit(main())
