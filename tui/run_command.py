"""`amlocal run PIPELINE.py`: run an unmodified Azure ML v1 pipeline script locally.

The compat `azureml` package goes first on sys.path, the script runs as `__main__` from its
own directory, and runs it submitted but did not wait for are followed to their end.
"""
from __future__ import annotations

import os
import runpy
import sys
import traceback
from pathlib import Path

from runner.paths import COMPAT_DIR


class ScriptError(Exception):
    """The pipeline script raised; the message names the script line."""


def _user_frame(exc: BaseException, script: Path) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if Path(frame.filename).resolve() == script:
            return f"{script.name}:{frame.lineno}"
    return script.name


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
    from runner.sdk.local_context import local_workspace
    os.environ["AMLOCAL_HOME"] = str(local_workspace().layout.root)
    os.environ["AMLOCAL_PIPELINE_SCRIPT"] = str(script)  # recorded with each run, for watching
    sys.path.insert(0, str(COMPAT_DIR))
    sys.path.insert(0, str(script.parent))
    for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
        del sys.modules[name]
    os.chdir(script.parent)
    sys.argv = [str(script), *script_args]
    from runner.sdk.experiment import submitted_runs
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        where = _user_frame(exc, script)
        message = str(exc).strip() or "(no message)"
        raise ScriptError(f"{where}: {type(exc).__name__}: {message}") from exc
    failed = False
    runs = submitted_runs()
    for run in runs:
        status = run._row()["status"]
        if wait and status not in ("Finished", "Failed", "Canceled"):
            status = run.wait_for_completion(show_output=True, raise_on_error=False)
        failed = failed or status != "Finished"
        print(f"amlocal: run {run.id} {status}; see `amlocal show {run.id[:8]}`", flush=True)
    if watch:
        if not runs:
            raise ScriptError(f"{script.name} submitted no pipeline run, so there is nothing to watch")
        return watch_pipeline(script, runs[-1].id, manual)
    return 1 if failed else 0


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
