"""The `amlocal` command line."""
from __future__ import annotations

import argparse
import sqlite3
import sys

from tui.arguments import (USAGE_ERROR, OneLineParser, VersionAction, refuse_extras, since,
                           split_script_args, statuses)

SCRIPT_EPILOG = ("amlocal's options go before or after the script; the script's own arguments "
                 "after --, e.g. `amlocal %(prog)s pipeline.py --executor local -- --epochs 3`")


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="amlocal", description="Run Azure ML SDK v1 pipelines on this machine.")
    parser.add_argument("--version", action=VersionAction,
                        help="amlocal's version and the SDK versions it emulates")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=OneLineParser)
    run = sub.add_parser("run", help="run a pipeline script or notebook (unmodified `azureml` imports work)",
                         allow_abbrev=False, epilog=SCRIPT_EPILOG.replace("%(prog)s", "run"))
    run.add_argument("script", help="the pipeline script or notebook, e.g. pipeline.py, pipeline.ipynb")
    run.add_argument("--no-wait", action="store_true", help="return once the runs are submitted")
    run.add_argument("--executor", choices=("auto", "docker", "local"),
                     help="where steps run (default: the workspace setting, else auto: Docker "
                          "when an engine answers)")
    run.add_argument("--watch", action="store_true",
                     help="then rerun what each saved file invalidates, until Ctrl-C")
    run.add_argument("--manual", action="store_true",
                     help="with --watch: changes wait for Enter (p pauses, q stops)")
    run.add_argument("--traceback", action="store_true",
                     help="when the script raises, print its traceback (the user's frames only; "
                          "a notebook: the failing cell's)")
    watch = sub.add_parser("watch", help="run a pipeline script, then rerun it on every relevant save",
                           allow_abbrev=False, epilog=SCRIPT_EPILOG.replace("%(prog)s", "watch"))
    watch.add_argument("script")
    watch.add_argument("--executor", choices=("auto", "docker", "local"))
    watch.add_argument("--manual", action="store_true", help="changes wait for Enter")
    runs = sub.add_parser("runs", help="list the latest pipeline runs")
    runs.add_argument("-n", "--limit", type=int, default=20, help="how many (default 20)")
    runs.add_argument("-e", "--experiment", help="only this experiment")
    runs.add_argument("--status", type=statuses, metavar="STATUS[,STATUS]",
                      help="only runs with this status (Failed, Running, Finished, …; any case)")
    runs.add_argument("--since", type=since, metavar="DATE|DURATION",
                      help="only runs created since a date (2026-12-01, 2026-12-01T09:30, local "
                           "time) or for a duration back from now (90s, 15m, 2h, 3d, 1w)")
    runs.add_argument("--json", action="store_true", help="a JSON list (fields: see README)")
    show = sub.add_parser("show", help="a run's steps, parameters, git info and metrics")
    show.add_argument("run_id", help="run id (a unique prefix, or \"latest\")")
    show.add_argument("--json", action="store_true", help="a JSON object (fields: see README)")
    logs = sub.add_parser("logs", help="a step's stdout/stderr")
    logs.add_argument("run_id")
    logs.add_argument("step", nargs="?", help="step name (default: every step)")
    logs.add_argument("-f", "--follow", action="store_true", help="follow while the run goes on")
    metrics = sub.add_parser("metrics", help="every step's metrics: latest value, history length")
    metrics.add_argument("run_id")
    metrics.add_argument("--json", action="store_true", help="a JSON list (fields: see README)")
    cancel = sub.add_parser("cancel", help="stop a run (its steps get SIGTERM, then SIGKILL)")
    cancel.add_argument("run_id")
    why = sub.add_parser("why", help="why each step ran or was reused, and what changed")
    why.add_argument("run_id")
    why.add_argument("step", nargs="?", help="step name (default: every step)")
    why.add_argument("--json", action="store_true", help="a JSON list (fields: see README)")
    sub.add_parser("ui", help="the terminal dashboard: pipelines, runs, steps, logs, metrics")
    config = sub.add_parser("config", help="show or change settings (the workspace's, or with "
                                           "--user everyone's), and where each comes from")
    config.add_argument("name", nargs="?", help="a setting (base_image, executor, image_map, reuse)")
    config.add_argument("value", nargs="?", help="its new value; for image_map also add or remove")
    config.add_argument("entry", nargs="?", help="image_map add NAME=LOCAL, image_map remove NAME")
    config.add_argument("--unset", action="store_true", help="remove the setting")
    config.add_argument("--user", action="store_true",
                        help="change the user-wide settings file ($XDG_CONFIG_HOME/amlocal/settings, "
                             "~/.config/amlocal/settings), which every workspace reads under its own")
    from tui import (completion, debug_command, gc_command, kernel_command, registry_commands,
                     rerun_command, resource_commands, service_commands)
    rerun_command.add_parser(sub)
    debug_command.add_parser(sub)
    gc_command.add_parsers(sub)
    resource_commands.add_parsers(sub)
    registry_commands.add_parsers(sub)
    service_commands.add_parsers(sub)
    kernel_command.add_parser(sub)
    completion.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `amlocal` console script; returns the exit status."""
    own, script_args = split_script_args(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, extras = parser.parse_known_args(own)
    if extras:
        refuse_extras(args.command, extras, getattr(args, "script", None))
    from runner.errors import RunnerError
    from store.database import damaged_database_message
    from store.disk_space import is_disk_full, no_space_message
    from store.errors import StoreError
    try:
        if args.command == "run":
            from tui.run_command import run_script
            return run_script(args.script, script_args, wait=not args.no_wait,
                              executor=args.executor, watch=args.watch, manual=args.manual)
        if args.command == "watch":
            from tui.run_command import run_script
            return run_script(args.script, script_args, wait=True, executor=args.executor, watch=True,
                              manual=args.manual)
        from tui import commands
        if args.command == "runs":
            return commands.cmd_runs(args.limit, args.experiment, args.status or (), args.since,
                                     args.json)
        if args.command == "show":
            return commands.cmd_show(args.run_id, args.json)
        if args.command == "logs":
            from tui.logs_command import cmd_logs
            return cmd_logs(args.run_id, args.step, args.follow)
        if args.command == "metrics":
            return commands.cmd_metrics(args.run_id, args.json)
        if args.command == "cancel":
            return commands.cmd_cancel(args.run_id)
        if args.command == "why":
            return commands.cmd_why(args.run_id, args.step, args.json)
        if args.command == "rerun":
            from tui.rerun_command import rerun_command
            return rerun_command(args, commands.open_existing())
        if args.command in ("rm", "gc"):
            from tui import gc_command
            return gc_command.run(args, commands.open_existing())
        if args.command == "debug":
            from tui.debug_command import debug_command
            return debug_command(args, script_args, commands.open_existing())
        if args.command == "ui":
            from store.layout import require_workspace
            from tui.dashboard.app import run_dashboard
            return run_dashboard(require_workspace())
        if args.command == "config":
            from tui.config_command import cmd_config
            return cmd_config(args.name, args.value, args.unset, args.entry, args.user)
        if args.command == "completion":
            from tui.completion import run as completion_script
            return completion_script(args.shell, _parser())
        if args.command == "kernel":
            from tui import kernel_command
            return kernel_command.run(args)
        from tui import service_commands
        if args.command in service_commands.COMMANDS:
            return service_commands.run(args)
        from tui import resource_commands
        if args.command in resource_commands.COMMANDS:
            return resource_commands.run(args)
        from tui import registry_commands
        if args.command in registry_commands.COMMANDS:
            return registry_commands.run(args)
    except KeyboardInterrupt:
        print("amlocal: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (sqlite3.Error, OSError, StoreError, RunnerError) as exc:
        if is_disk_full(exc):  # a full disk, said as one, wherever it was met
            what = no_space_message(None, "the workspace cannot be written")
            print(f"amlocal: error: {what}; free some space and retry", file=sys.stderr)
            return 1
        if isinstance(exc, sqlite3.DatabaseError):  # damaged pages found by a query, not at open
            print(f"amlocal: error: {damaged_database_message(exc)}", file=sys.stderr)
            return 1
        if not isinstance(exc, (StoreError, RunnerError, FileNotFoundError)):
            raise
        if getattr(args, "traceback", False) and getattr(exc, "user_traceback", ""):
            print(exc.user_traceback, end="", file=sys.stderr)
        print(f"amlocal: error: {exc}", file=sys.stderr)
        return 1
    return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
