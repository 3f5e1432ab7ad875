"""`amlocal debug RUN STEP [--pdb] [--listen PORT] [-- COMMAND…]`: a shell (or the step under
pdb / debugpy, or COMMAND) in a step run's exact environment: its image or interpreter,
mounts, environment variables and working copy."""
from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from store.runs import resolve_run_id


def add_parser(sub: Any) -> None:
    """Register `debug` on the command line's subparsers."""
    debug = sub.add_parser(
        "debug", help="a shell in a step's exact environment (image, mounts, env, working copy)",
        epilog="after --, a command to run there instead of a shell, e.g. "
               "`amlocal debug latest train -- python -c 'import os; print(os.getcwd())'`")
    debug.add_argument("run_id", help="a run id (or its first characters, or 'latest')")
    debug.add_argument("step", help="the step's name")
    how = debug.add_mutually_exclusive_group()
    how.add_argument("--pdb", action="store_true", help="run the step's command under pdb")
    how.add_argument("--listen", type=int, metavar="PORT",
                     help="run the step's command under debugpy, waiting for a debugger (VS Code) "
                          "to attach to 127.0.0.1:PORT")


def debug_command(args: argparse.Namespace, command: list[str], local: Any) -> int:
    """Prepare the step's environment, print the command that reruns the step, then start the
    shell (or the step under pdb/debugpy, or `command`); returns its exit status."""
    from runner.engine.debug_session import DebugError, debugpy_missing, prepare_debug
    from runner.executors.debug_launch import launch
    if command and (args.pdb or args.listen is not None):
        raise DebugError("give either a command after -- or --pdb/--listen, not both")
    if args.listen is not None and not 0 < args.listen < 65536:
        raise DebugError(f"--listen {args.listen}: a port is 1-65535")
    run_id = resolve_run_id(local.conn, args.run_id)
    session = prepare_debug(local, run_id, args.step, tuple(command), args.pdb, args.listen)
    if session.listen_port is not None:
        missing = debugpy_missing(session)
        if missing is not None:
            raise DebugError(missing)
    for note in session.notes:
        print(f"amlocal: {note}")
    where = (f"image {session.invocation.image}" if session.executor.name == "docker"
             else f"{session.executor.python}")
    print(f"amlocal: step {session.step_name} ({session.step_run_id[:8]}, {where}) in "
          f"{session.executor.map_path(session.invocation.cwd)}")
    print(f"amlocal: the step ran: {session.rerun_command}")
    if session.listen_port is not None:
        print(f"amlocal: waiting for a debugger on 127.0.0.1:{session.listen_port} "
              "(VS Code: \"Python: Remote Attach\")")
    sys.stdout.flush()
    tty = session.interactive and sys.stdin.isatty() and sys.stdout.isatty()
    with launch(session.executor, session.invocation, session.command, tty,
                session.listen_port) as started:
        try:
            done = subprocess.run(list(started.argv), env=started.env, cwd=started.cwd,
                                  stdin=None if session.interactive else subprocess.DEVNULL)
        except FileNotFoundError:
            raise DebugError(f"cannot run {started.argv[0]}: not found") from None
    return done.returncode
