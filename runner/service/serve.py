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
from runner.executors.processes import process_alive
from runner.service.app import create_app
from runner.service.dispatch import runner_slots
from runner.service_control import base_url
from store.errors import StoreError
from store.layout import WorkspaceLayout
from store.service_record import (ServiceLockHeld, ServiceRecord, acquire_service_lock,
                                  read_service_record, remembered_port, remove_service_record,
                                  write_service_record)
from store.workspace import open_workspace
from store.workspace_token import workspace_token

LOOPBACK = "127.0.0.1"
LOCK_WAIT_S = 3.0


class ServiceRunning(RunnerError):
    """Another process already serves this workspace."""


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections of a socket that says
    # so, and without it every answer on a kept-alive connection waits ~40 ms (Nagle against
    # the client's delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RunnerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def _take_lock(layout: WorkspaceLayout) -> int:
    """The service lock; when the recorded service is dead but its lock still held (a killed
    process whose threads are still ending), wait for it a moment."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return acquire_service_lock(layout)
        except ServiceLockHeld:
            found = read_service_record(layout)
            if found is None or process_alive(found.pid, None) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _listen_again(layout: WorkspaceLayout, host: str) -> socket.socket:
    """Listen on the port the workspace's service had last, so saved endpoint URLs keep
    working; on a free port when it is taken (or there was none)."""
    last = remembered_port(layout)
    if last is not None:
        try:
            return _listen(host, last)
        except RunnerError as exc:
            print(f"amlocal: the service's last port {last} is taken ({exc}); listening on "
                  "another one, so endpoint URLs saved before no longer work", file=sys.stderr)
    return _listen(host, 0)


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(layout: WorkspaceLayout, host: str = LOOPBACK, port: int = 0,
          announce: bool = True) -> None:
    """Serve the workspace at `layout` until SIGINT/SIGTERM (port 0: the port it had last
    when that is free, else a free one)."""
    try:
        lock_fd = _take_lock(layout)
    except ServiceLockHeld:
        found = read_service_record(layout)
        where = f" on {base_url(found)} (pid {found.pid})" if found else ""
        raise ServiceRunning(f"a service already runs for this workspace{where}; "
                             "`amlocal service stop` ends it") from None
    try:
        workspace_token(layout)  # made before the first request needs it
        app_slots = runner_slots(layout)  # a bad setting stops the start, in one line
        sock = _listen_again(layout, host) if port == 0 else _listen(host, port)
        local = open_workspace(layout)
        actual = sock.getsockname()[1]
        record = ServiceRecord(os.getpid(), host, actual, time.time())
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        config = uvicorn.Config(create_app(local, app_slots), log_level="info", access_log=False,
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
    except (RunnerError, StoreError) as exc:
        print(f"amlocal: error: {exc}", file=sys.stderr)
        return 1
    return 0
