"""Run the workspace service under uvicorn: one per workspace (the service lock), its pid and
port in the workspace's service record while it listens, removed when it stops."""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

import uvicorn

from runner.errors import RunnerError
from runner.service.app import create_app
from runner.service_control import base_url
from store.layout import WorkspaceLayout
from store.service_record import (ServiceLockHeld, ServiceRecord, acquire_service_lock,
                                  read_service_record, remove_service_record,
                                  write_service_record)
from store.workspace import open_workspace
from store.workspace_token import workspace_token

LOOPBACK = "127.0.0.1"


class ServiceRunning(RunnerError):
    """Another process already serves this workspace."""


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RunnerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(layout: WorkspaceLayout, host: str = LOOPBACK, port: int = 0,
          announce: bool = True) -> None:
    """Serve the workspace at `layout` until SIGINT/SIGTERM (port 0: a free port)."""
    try:
        lock_fd = acquire_service_lock(layout)
    except ServiceLockHeld:
        found = read_service_record(layout)
        where = f" on {base_url(found)} (pid {found.pid})" if found else ""
        raise ServiceRunning(f"a service already runs for this workspace{where}; "
                             "`amlocal service stop` ends it") from None
    try:
        workspace_token(layout)  # made before the first request needs it
        local = open_workspace(layout)
        sock = _listen(host, port)
        actual = sock.getsockname()[1]
        record = ServiceRecord(os.getpid(), host, actual, time.time())
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        config = uvicorn.Config(create_app(local), log_level="info", access_log=True,
                                lifespan="on")
        server = uvicorn.Server(config)
        write_service_record(layout, record)
        if announce:
            print(f"amlocal: serving {layout.root} on {base_url(record)} "
                  f"(OpenAPI: {base_url(record)}/docs; Ctrl-C stops)", file=sys.stderr, flush=True)
        previous = signal.signal(signal.SIGTERM, _exit_quietly)  # uvicorn re-raises it at exit
        try:
            server.run(sockets=[sock])
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            remove_service_record(layout, os.getpid())
            sock.close()
            local.close()
    finally:
        os.close(lock_fd)


def main(argv: list[str] | None = None) -> int:
    """`python -m runner.service --workspace DIR [--host H] [--port P]` (what ensure_service runs)."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m runner.service")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--background", action="store_true")
    args = parser.parse_args(argv)
    try:
        serve(WorkspaceLayout(Path(args.workspace)), args.host, args.port,
              announce=not args.background)
    except RunnerError as exc:
        print(f"amlocal: error: {exc}", file=sys.stderr)
        return 1
    return 0
