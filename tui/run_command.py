"""`amlocal run PIPELINE.py`: run an unmodified Azure ML v1 pipeline script locally.

The script is evaluated in this process (see `runner.pipeline_script`) inside a submission
scope that gives its submits the options of the command line and collects them; the runs it
submitted but did not wait for are then followed to their end, and with `--watch` rerun on
every save.
"""
from __future__ import annotations

import sys
from pathlib import Path

from runner.client import ScopeDefaults, SubmissionScope, submission_scope
from runner.engine.progress import ProgressPrinter
from runner.errors import RunnerError
from runner.pipeline_script import evaluate_pipeline_script
from store import status as st
from store.runs import run_status

def run_script(script_arg: str, script_args: list[str], wait: bool,
               executor: str | None = None, watch: bool = False, manual: bool = False) -> int:
    """Run the pipeline script; returns the process exit code.

    `executor` (auto, docker, local) applies to every run the script submits. With `watch`,
    the pipeline is then watched and rerun on change until Ctrl-C (`manual`: on Enter only).
    """
    script = Path(script_arg).resolve()
    if not script.is_file():
        raise FileNotFoundError(f"pipeline script {script_arg} does not exist")
    with submission_scope(ScopeDefaults(script=script, executor=executor)) as scope:
        try:
            exit_code = evaluate_pipeline_script(script, script_args)
            if exit_code:
                return exit_code
            failed = not _follow(scope, wait)
        except KeyboardInterrupt:
            _say_what_goes_on(scope)
            raise
    if watch:
        if not scope.submitted:
            raise RunnerError(f"{script.name} submitted no pipeline run, so there is nothing to watch")
        return watch_pipeline(script, scope.submitted[-1].run_id, manual, executor)
    return 1 if failed else 0


def _follow(scope: SubmissionScope, wait: bool) -> bool:
    """Follow the runs the script submitted to their end (with `wait`); True if all finished."""
    from runner.engine.liveness import reconcile_run
    from runner.sdk.local_context import local_workspace
    local = local_workspace()
    finished = True
    for submitted in scope.submitted:
        run_id = submitted.run_id
        status = run_status(local.conn, run_id)
        if wait and status not in st.TERMINAL:
            status = ProgressPrinter(local.conn, run_id, sys.stdout).follow(
                1e13, reconcile=lambda: reconcile_run(local.conn, local.layout, run_id))
        finished = finished and status == st.FINISHED
        print(f"amlocal: run {run_id} {status}; see `amlocal show {run_id[:8]}`", flush=True)
    return finished


def _say_what_goes_on(scope: SubmissionScope) -> None:
    """After Ctrl-C: which runs the script submitted go on (their runners are not ours)."""
    from runner.sdk.local_context import local_workspace
    conn = local_workspace().conn
    for submitted in scope.submitted:
        if run_status(conn, submitted.run_id) not in st.TERMINAL:
            print(f"amlocal: run {submitted.run_id[:8]} goes on in the background; "
                  f"`amlocal cancel {submitted.run_id[:8]}` stops it", file=sys.stderr)


def watch_pipeline(script: Path, run_id: str, manual: bool, executor: str | None = None) -> int:
    """Watch the pipeline of `run_id` until Ctrl-C or SIGTERM; stdin: Enter runs pending
    changes (manual mode), `p` pauses or resumes, `q` stops."""
    import signal
    import threading

    from runner.sdk.local_context import local_workspace
    from runner.watch.watcher import PipelineWatcher
    watcher = PipelineWatcher(local_workspace().layout, script, run_id,
                              say=lambda text: print(f"amlocal watch: {text}", flush=True),
                              manual=manual, executor=executor)
    # Ctrl-C (or SIGTERM) asks the watcher to stop wherever it is, so it always gets to stop
    # the runs it started, instead of a KeyboardInterrupt cutting that short.
    signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
    signal.signal(signal.SIGINT, lambda *_: watcher.stop())

    def controls() -> None:
        for line in sys.stdin:
            command = line.strip().lower()
            if command == "q":
                watcher.stop()
            elif command == "p":
                watcher.toggle_pause()
            elif command == "":
                watcher.trigger()
    threading.Thread(target=controls, name="watch-controls", daemon=True).start()
    print("amlocal watch: Ctrl-C stops; " + ("Enter runs pending changes, " if manual else "")
          + "p + Enter pauses or resumes", flush=True)
    watcher.run()
    print("amlocal watch: stopped", flush=True)
    return 0
