"""`amlocal serve` (the workspace service in the foreground) and `amlocal service
status|stop|logs|token`."""
from __future__ import annotations

import argparse
import sys

from store.layout import require_workspace

COMMANDS = ("serve", "service", "schedules", "published")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `serve` and `service` to the command line."""
    serve = sub.add_parser("serve", help="the workspace service (published pipelines' REST "
                                         "endpoints) in the foreground")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; others are warned about)")
    service = sub.add_parser("service", help="the background workspace service: status, stop, "
                                             "logs, token")
    service.add_argument("action", choices=("status", "stop", "logs", "token"))
    sub.add_parser("schedules", help="the workspace's schedules: status, next fire, last run")
    sub.add_parser("published", help="published pipelines and pipeline endpoints (versions, default)")


def cmd_published(layout: object) -> int:
    """Print every published pipeline, then every pipeline endpoint with its versions."""
    from store.catalog import list_published_pipelines
    from store.pipeline_endpoints import list_endpoints
    from store.workspace import open_workspace
    from tui.formatting import table, when
    with open_workspace(layout) as local:  # type: ignore[arg-type]
        published = list_published_pipelines(local.conn, active_only=False)
        endpoints = list_endpoints(local.conn, active_only=False)
    if not published:
        print("nothing published yet: call pipeline.publish(name) in a pipeline script")
        return 0
    print(table(["ID", "NAME", "VERSION", "STATUS", "PUBLISHED"],
                [[p.id, p.name, p.version or "-", p.status, when(p.created_at)] for p in published]))
    if endpoints:
        print()
        print(table(["ENDPOINT ID", "NAME", "STATUS", "DEFAULT", "VERSIONS"],
                    [[e.id, e.name, e.status, e.default_version,
                      ", ".join(f"{v}={p[:8]}" for v, p in e.versions)] for e in endpoints]))
    return 0


def schedule_trigger_text(trigger: dict) -> str:
    """A datastore schedule's trigger in words: `on datastore/path/` (path as given)."""
    path = (trigger.get("path_on_datastore") or "").strip("/")
    return f"on {trigger.get('datastore')}/{path + '/' if path else ''}"


def cmd_schedules(layout: object) -> int:
    """Print every schedule with its next fire time (UTC) and its last run."""
    from runner.schedule_time import schedule_next_fire
    from store.schedules import list_schedules
    from store.workspace import open_workspace
    from tui.formatting import table
    with open_workspace(layout) as local:  # type: ignore[arg-type]
        schedules = list_schedules(local.conn)
    if not schedules:
        print("no schedules yet: create one with Schedule.create(ws, name, pipeline_id, "
              "experiment_name, recurrence=ScheduleRecurrence(...)) or datastore=...")
        return 0
    rows = []
    for s in schedules:
        r = s.recurrence
        if r is None:
            every, nxt = schedule_trigger_text(s.datastore_trigger or {}), "on change"
        else:
            every = f"every {r['interval']} {r['frequency']}"
            nxt = schedule_next_fire(r, s.last_fired_at, s.created_at).strftime(
                "%Y-%m-%d %H:%M:%S UTC")
        if s.status != "Active":
            nxt = "-"
        rows.append([s.id, s.name, s.status, every, s.pipeline_id or f"endpoint {s.pipeline_endpoint_id}",
                     s.experiment_name, nxt, s.last_run_id or "-"])
    print(table(["ID", "NAME", "STATUS", "RECURRENCE", "PIPELINE", "EXPERIMENT", "NEXT FIRE",
                 "LAST RUN"], rows))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run `serve` or `service ACTION`; returns the exit status."""
    from runner.service_control import base_url, running_service, stop_service
    layout = require_workspace()
    if args.command == "schedules":
        return cmd_schedules(layout)
    if args.command == "published":
        return cmd_published(layout)
    if args.command == "serve":
        from runner.service.serve import serve
        if not 0 <= args.port <= 65535:
            print(f"amlocal: error: --port {args.port} is not a port (0-65535)", file=sys.stderr)
            return 2
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"amlocal: warning: listening on {args.host}: other machines can reach the "
                  "service (every request still needs the workspace token)", file=sys.stderr)
        serve(layout, args.host, args.port)
        return 0
    if args.action == "token":
        from store.workspace_token import workspace_token
        print(workspace_token(layout))
        return 0
    if args.action == "logs":
        from store.service_record import log_path
        path = log_path(layout)
        if not path.exists():
            print("no service log yet: the background service has not run")
            return 0
        sys.stdout.write(path.read_text(errors="replace"))
        return 0
    if args.action == "stop":
        stopped = stop_service(layout)
        print(f"stopped the service on {base_url(stopped)} (pid {stopped.pid})" if stopped
              else "no service runs for this workspace")
        return 0
    record = running_service(layout)
    if record is None:
        print("no service runs for this workspace (`amlocal serve`, or publish a pipeline)")
        return 3
    print(f"running on {base_url(record)} (pid {record.pid}); OpenAPI: {base_url(record)}/docs")
    return 0
