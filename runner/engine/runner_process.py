"""The runner process: `python -m runner.engine.runner_process WORKSPACE_ROOT RUN_ID`.

Started detached by a submitting client; executes one pipeline run and records everything.
SIGTERM (what `amlocal cancel` sends) stops the run politely.
"""
from __future__ import annotations

import signal
import sys
import traceback
from pathlib import Path

from runner.engine.scheduler import PipelineRunExecution
from runner.executors.local import LocalExecutor
from store import status as st
from store.runs import finish_open_step_runs, finish_pipeline_run
from store.workspace import open_workspace_at


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m runner.engine.runner_process WORKSPACE_ROOT RUN_ID", file=sys.stderr)
        return 2
    root, run_id = Path(args[0]), args[1]
    local = open_workspace_at(root)
    execution = PipelineRunExecution(local, run_id, LocalExecutor())
    signal.signal(signal.SIGTERM, lambda *_: execution.request_stop("canceled by user"))
    signal.signal(signal.SIGINT, lambda *_: execution.request_stop("canceled by user"))
    try:
        status = execution.execute()
    except BaseException as exc:
        traceback.print_exc()
        error = f"runner crashed: {type(exc).__name__}: {exc}"
        finish_open_step_runs(local.conn, run_id, st.FAILED, error)
        finish_pipeline_run(local.conn, run_id, st.FAILED, error)
        return 1
    finally:
        local.close()
    return 0 if status == st.FINISHED else 1


if __name__ == "__main__":
    sys.exit(main())
