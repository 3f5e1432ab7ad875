"""`amlocal run PIPELINE.py`: run an unmodified Azure ML v1 pipeline script locally.

The script is evaluated in this process (see `runner.pipeline_script`) inside a submission
scope that gives its submits the options of the command line and collects them; the runs it
submitted but did not wait for are then followed to their end, and with `--watch` rerun on
every save. A notebook (`amlocal run NOTEBOOK.ipynb`) runs in amlocal's kernel instead
(`runner.notebook.execute`), and the runs it submitted are followed the same way.
"""
from __future__ import annotations

import sys
from pathlib import Path

from runner.client import ScopeDefaults, SubmissionScope, submission_scope
from runner.engine.progress import ProgressPrinter
from runner.errors import RunnerError
from runner.pipeline_script import ScriptError, evaluate_pipeline_script
from runner.step_runtime.exceptions import ActivityFailedException
from store import status as st
from store.runs import run_status

def run_script(script_arg: str, script_args: list[str], wait: bool,
               executor: str | None = None, watch: bool = False, manual: bool = False) -> int:
    """Run the pipeline script; returns the process exit code.

    `executor` (auto, docker, local) applies to every run the script submits. With `watch`,
    the pipeline is then watched and rerun on change until Ctrl-C (`manual`: on Enter only).
    """
    script = Path(script_arg).resolve()
    if script.suffix == ".ipynb":
        return run_notebook(script, script_args, wait, executor, watch)
    if not script.is_file():
        raise FileNotFoundError(f"pipeline script {script_arg} does not exist")
    with submission_scope(ScopeDefaults(script=script, executor=executor, no_wait=not wait)) as scope:
        try:
            exit_code = evaluate_pipeline_script(script, script_args)
            if exit_code:
                _report_failures(_ids(scope), with_error=True)
                if not (watch and scope.submitted):
                    return exit_code  # watching goes on after a run the script waited for failed
            failed = not _follow(_ids(scope), wait)
        except ScriptError as exc:
            waited = isinstance(exc.__cause__, ActivityFailedException)
            if watch and scope.submitted:  # the first run failed: say so, and watch on
                if waited:
                    _report_failures(_ids(scope), with_error=False)
                print(f"amlocal: {exc}", file=sys.stderr, flush=True)
                failed = True
            else:
                if not waited:
                    raise
                # The script's wait raised: the closing error line says the error, once.
                _report_failures(_ids(scope), with_error=False)
                from runner.sdk.local_context import local_workspace
                from tui.failure_report import with_source_paths
                shown = with_source_paths(local_workspace().conn, _ids(scope), str(exc))
                if shown == str(exc):
                    raise
                raise ScriptError(shown, exc.user_traceback) from exc.__cause__
        except KeyboardInterrupt:
            _say_what_goes_on(_ids(scope))
            raise
    if watch:
        if not scope.submitted:
            raise RunnerError(f"{script.name} submitted no pipeline run, so there is nothing to watch")
        return watch_pipeline(script, scope.submitted[-1].run_id, manual, executor, script_args)
    return 1 if failed else 0


def run_notebook(notebook: Path, args: list[str], wait: bool, executor: str | None = None,
                 watch: bool = False) -> int:
    """Execute the notebook's code cells in amlocal's kernel, save it executed, then follow
    the runs it submitted; returns the process exit code."""
    from runner.notebook.execute import NotebookError, execute_notebook
    from runner.sdk.local_context import local_workspace
    if args:
        raise RunnerError(f"{notebook.name} is a notebook, which takes no arguments (got {' '.join(args)})")
    if watch:
        raise RunnerError("--watch reruns a pipeline script, not a notebook (yet): "
                          "export the notebook's pipeline to a .py file to watch it")
    layout = local_workspace().layout
    try:
        result = execute_notebook(notebook, layout.root, layout.notebooks_dir, executor,
                                  no_wait=not wait)
    except NotebookError as exc:
        if exc.saved is not None:
            print(f"amlocal: executed notebook saved to {exc.saved}", flush=True)
        raise
    except KeyboardInterrupt:
        print("amlocal: interrupted; runs the notebook submitted go on (`amlocal runs` lists them)",
              file=sys.stderr)
        raise
    print(f"amlocal: executed notebook saved to {result.saved}", flush=True)
    try:
        return 0 if _follow(result.run_ids, wait) else 1
    except KeyboardInterrupt:
        _say_what_goes_on(result.run_ids)
        raise


def _ids(scope: SubmissionScope) -> list[str]:
    return [s.run_id for s in scope.submitted]


def _follow(run_ids: list[str], wait: bool) -> bool:
    """Follow the submitted runs to their end (with `wait`); True if all finished (without
    `wait`: if none has failed or was canceled yet)."""
    from runner.engine.liveness import reconcile_run
    from runner.sdk.local_context import local_workspace
    local = local_workspace()
    finished = True
    for run_id in run_ids:
        status = run_status(local.conn, run_id)
        if wait and status not in st.TERMINAL:
            status = ProgressPrinter(local.conn, run_id, sys.stdout).follow(
                1e13, reconcile=lambda: reconcile_run(local.conn, local.layout, run_id))
        finished = finished and (status == st.FINISHED if wait else status not in (st.FAILED, st.CANCELED))
        print(f"amlocal: run {run_id} {status}; see `amlocal show {run_id[:8]}`", flush=True)
    _report_failures(run_ids, with_error=True)
    return finished


def _report_failures(run_ids: list[str], with_error: bool) -> None:
    """The failed runs' errors (unless the closing error line says them) and the failed
    steps' last log lines, on stderr (see `tui.failure_report`)."""
    from runner.sdk.local_context import local_workspace
    from tui.failure_report import report_failures
    report_failures(local_workspace().conn, run_ids, with_error=with_error)


def _say_what_goes_on(run_ids: list[str]) -> None:
    """After Ctrl-C: which submitted runs go on (their runners are not ours)."""
    from runner.sdk.local_context import local_workspace
    conn = local_workspace().conn
    for run_id in run_ids:
        if run_status(conn, run_id) not in st.TERMINAL:
            print(f"amlocal: run {run_id[:8]} goes on in the background; "
                  f"`amlocal cancel {run_id[:8]}` stops it", file=sys.stderr)


def watch_pipeline(script: Path, run_id: str, manual: bool, executor: str | None = None,
                   script_args: list[str] | None = None) -> int:
    """Watch the pipeline of `run_id` until Ctrl-C or SIGTERM; stdin: Enter runs pending
    changes (manual mode), `p` pauses or resumes, `q` stops. The script is evaluated again
    with the same `script_args`."""
    import signal
    import threading

    from runner.sdk.local_context import local_workspace
    from runner.watch.watcher import PipelineWatcher
    watcher = PipelineWatcher(local_workspace().layout, script, run_id,
                              say=lambda text: print(f"amlocal watch: {text}", flush=True),
                              manual=manual, executor=executor, script_args=script_args or ())
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
    watcher.report_failure()
    watcher.run()
    print("amlocal watch: stopped", flush=True)
    return 0
