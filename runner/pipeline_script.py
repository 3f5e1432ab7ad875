"""Evaluating an unmodified Azure ML v1 pipeline script on this machine.

The compat `azureml` package goes first on sys.path and the script runs as `__main__` from
its own folder, inside a submission scope (`runner.client.submission_scope`) that gives its
submits their options (the script itself, the executor asked for) and collects the runs it
submitted. `amlocal run` does this in its own process; watch mode does it in a fresh process
each time the script changes (`python -m runner.pipeline_script`), so a broken or slow script
cannot harm the watcher.
"""
from __future__ import annotations

import argparse
import os
import runpy
import sys
import sysconfig
import traceback
from pathlib import Path

from runner.client import ScopeDefaults, submission_scope
from runner.errors import RunnerError
from runner.paths import COMPAT_DIR, PACKAGE_PARENT
from store.errors import StoreError


class ScriptError(RunnerError):
    """The pipeline script raised; the message names the user's file and line.

    `user_traceback` is the traceback of the user's own frames (the script and the modules it
    imports), without amlocal's, for `amlocal run --traceback`.
    """

    def __init__(self, message: str, user_traceback: str = "") -> None:
        super().__init__(message)
        self.user_traceback = user_traceback


_NOT_USER_CODE = tuple(str(Path(p).resolve()) for p in {
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
    sysconfig.get_paths()["platlib"], PACKAGE_PARENT / "runner", PACKAGE_PARENT / "store",
    PACKAGE_PARENT / "tui"})


def _is_user_file(filename: str) -> bool:
    """Whether `filename` is the user's code: not amlocal's, not Python's, not an installed package."""
    if filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    return not any(path == root or path.startswith(root + os.sep) for root in _NOT_USER_CODE)


def _user_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return [f for f in traceback.extract_tb(exc.__traceback__) if _is_user_file(f.filename)]


def _user_frame(exc: BaseException, script: Path) -> str:
    """`file.py:LINE` of the innermost frame of the user's code in the traceback: the script
    or a module it imports (named relative to the script's folder when it is inside it)."""
    frames = _user_frames(exc)
    if not frames:
        return script.name
    path = Path(frames[-1].filename).resolve()
    name = path.relative_to(script.parent).as_posix() if path.is_relative_to(script.parent) else str(path)
    return f"{name}:{frames[-1].lineno}"


def user_traceback(exc: BaseException) -> str:
    """The traceback of `exc` through the user's frames only, as Python prints tracebacks."""
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(_user_frames(exc)),
             *traceback.format_exception_only(type(exc), exc)]
    return "".join(lines)


def evaluate_pipeline_script(script: Path, script_args: list[str]) -> int:
    """Run `script` as `__main__` in this process, as Azure ML users run it; returns the exit
    status it asked for with sys.exit (0 when it ran to its end).

    Call it inside a `submission_scope` to learn what it submitted. Changes this process for
    good (sys.path, sys.argv, the working directory), as running a script does. Raises
    FileNotFoundError for a missing script and ScriptError when it raises.
    """
    script = Path(script).resolve()
    if not script.is_file():
        raise FileNotFoundError(f"pipeline script {script} does not exist")
    from runner.sdk.local_context import local_workspace
    os.environ["AMLOCAL_HOME"] = str(local_workspace().layout.root)  # what the script finds
    sys.path.insert(0, str(COMPAT_DIR))
    sys.path.insert(0, str(script.parent))
    for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
        del sys.modules[name]
    os.chdir(script.parent)
    sys.argv = [str(script), *script_args]
    exit_code = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            exit_code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        message = str(exc).strip() or "(no message)"
        raise ScriptError(f"{_user_frame(exc, script)}: {type(exc).__name__}: {message}",
                          user_traceback(exc)) from exc
    return exit_code


def main(argv: list[str] | None = None) -> int:
    """`python -m runner.pipeline_script SCRIPT --record FILE [--executor E] [-- ARGS…]`:
    submit, never wait (watch mode evaluates a changed script so); ARGS are the script's.

    The ids of the submitted runs go to FILE, one a line (not to stdout, which is the
    script's own); an error is one line on stderr and exit status 1.
    """
    parser = argparse.ArgumentParser(prog="python -m runner.pipeline_script")
    parser.add_argument("script")
    parser.add_argument("--record", required=True, help="file to write the submitted run ids to")
    parser.add_argument("--executor", choices=("auto", "docker", "local"))
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    script = Path(args.script).resolve()
    with submission_scope(ScopeDefaults(script=script, executor=args.executor)) as scope:
        try:
            exit_code = evaluate_pipeline_script(script, argv[cut + 1:])
        except (RunnerError, StoreError, FileNotFoundError) as exc:
            print(f"amlocal: error: {exc}", file=sys.stderr)
            exit_code = 1
        finally:  # a run the script submitted before it failed is still watched
            Path(args.record).write_text("".join(f"{s.run_id}\n" for s in scope.submitted))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
