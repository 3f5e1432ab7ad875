"""`amlocal rerun RUN [--step NAME]… [--from NAME] [--param NAME=VALUE]…`: submit a run's
pipeline again, forcing some steps (and what depends on them) to run, with other parameters."""
from __future__ import annotations

import argparse
import json
from typing import Any

from runner.errors import RunnerError
from store.runs import get_pipeline_run, resolve_run_id


def add_parser(sub: Any) -> None:
    """Register `rerun` on the command line's subparsers."""
    rerun = sub.add_parser("rerun", help="submit a run's pipeline again: some steps forced, "
                                         "other parameters")
    rerun.add_argument("run_id", help="a run id (or its first characters, or 'latest')")
    rerun.add_argument("--step", action="append", default=[], metavar="NAME",
                       help="run this step and everything downstream of it (repeatable)")
    rerun.add_argument("--from", dest="from_step", metavar="NAME",
                       help="run this step and every step after it in pipeline order")
    rerun.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a pipeline parameter for this run (JSON values: 3, 0.5, true)")
    rerun.add_argument("--regenerate-outputs", action="store_true",
                       help="run every step (reuse nothing)")
    rerun.add_argument("--no-wait", action="store_true", help="submit and return")
    rerun.add_argument("--executor", choices=("auto", "docker", "local"))


def parse_params(items: list[str], known: dict[str, Any]) -> dict[str, Any]:
    """`NAME=VALUE` pairs as parameter values: JSON where it parses (3, 0.5, true), else text;
    a name the pipeline does not have is an error naming the ones it has."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise RunnerError(f"--param {item!r}: write NAME=VALUE")
        if name not in known:
            raise RunnerError(f"--param {name}: the pipeline has no parameter {name} "
                              f"(its parameters: {', '.join(sorted(known)) or 'none'})")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        if isinstance(known[name], str) and not isinstance(value, str):
            value = text  # a text parameter stays text ("007")
        out[name] = value
    return out


def rerun_command(args: argparse.Namespace, local: Any) -> int:
    """Submit the rerun, print its id and what it forces, and follow it unless --no-wait."""
    from runner.client import Client
    from runner.engine.progress import ProgressPrinter
    run_id = resolve_run_id(local.conn, args.run_id)
    run = get_pipeline_run(local.conn, run_id)
    parameters = parse_params(args.param, dict(run.parameters))
    submitted = Client(local).rerun(run_id, regenerate_outputs=args.regenerate_outputs,
                                    parameters=parameters, executor=args.executor,
                                    steps=tuple(args.step), from_step=args.from_step)
    print(f"Submitted PipelineRun {submitted.run_id} (a rerun of {run_id[:8]})")
    if args.no_wait:
        return 0
    import sys
    ProgressPrinter(local.conn, submitted.run_id, sys.stdout).follow(1e13)
    status = get_pipeline_run(local.conn, submitted.run_id).status
    return 0 if status == "Finished" else 1
