"""`amlocal run PIPELINE.py`: run an unmodified Azure ML v1 pipeline script locally.

The script is evaluated in this process (see `runner.pipeline_script`); the runs it submitted
but did not wait for are then followed to their end, and with `--watch` rerun on every save.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from runner.errors import RunnerError
from runner.pipeline_script import evaluate_pipeline_script


def run_script(script_arg: str, script_args: list[str], wait: bool,
               executor: str | None = None, watch: bool = False, manual: bool = False) -> int:
    """Run the pipeline script; returns the process exit code.

    `executor` (auto, docker, local) applies to every run the script submits. With `watch`,
    the pipeline is then watched and rerun on change until Ctrl-C (`manual`: on Enter only).
    """
    script = Path(script_arg).resolve()
    if not script.is_file():
        raise FileNotFoundError(f"pipeline script {script_arg} does not exist")
    if executor:
        from runner.engine.executor_choice import EXECUTOR_ENV
        os.environ[EXECUTOR_ENV] = executor
    exit_code, runs = evaluate_pipeline_script(script, script_args)
    if exit_code:
        return exit_code
    failed = False
    for run in runs:
        status = run.get_status()
        if wait and status not in ("Finished", "Failed", "Canceled"):
            status = run.wait_for_completion(show_output=True, raise_on_error=False)
        failed = failed or status != "Finished"
        print(f"amlocal: run {run.id} {status}; see `amlocal show {run.id[:8]}`", flush=True)
    if watch:
        if not runs:
            raise RunnerError(f"{script.name} submitted no pipeline run, so there is nothing to watch")
        return watch_pipeline(script, runs[-1].id, manual)
    return 1 if failed else 0


def runs_in_flight() -> list[str]:
    """Ids of the runs this process submitted that have not ended (their runners go on)."""
    if "runner.sdk.experiment" not in sys.modules:
        return []
    from runner.sdk.experiment import submitted_runs
    return [run.id for run in submitted_runs()
            if run.get_status() not in ("Finished", "Failed", "Canceled")]


def watch_pipeline(script: Path, run_id: str, manual: bool) -> int:
    """Watch the pipeline of `run_id` until Ctrl-C or SIGTERM; stdin: Enter runs pending
    changes (manual mode), `p` pauses or resumes, `q` stops."""
    import signal
    import threading

    from runner.engine.watcher import PipelineWatcher
    from runner.sdk.local_context import local_workspace
    watcher = PipelineWatcher(local_workspace().layout, script, run_id,
                              say=lambda text: print(f"amlocal watch: {text}", flush=True), manual=manual)
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
