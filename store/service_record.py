"""Where the workspace service says it runs: `<workspace>/private/service.json` (0600).

The serving process holds an exclusive lock on `<workspace>/private/service.lock` for its
whole life (one service per workspace) and writes its pid, host, port and start time to the
record; whoever wants to call it reads the record and checks the lock is still held. The
token is the workspace token (store/workspace_token.py), in its own 0600 file.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import NamedTuple

from store.layout import WorkspaceLayout
from store.private_files import FILE_MODE, ensure_private_dir, read_private_file, write_private_file
from store.workspace_token import private_dir

RECORD_NAME = "service.json"
LOCK_NAME = "service.lock"
LOG_NAME = "service.log"
PORT_NAME = "service.port"  # the port it listened on last, kept after it stops


class ServiceRecord(NamedTuple):
    """A running service: its process, where it listens, and when it started (epoch s)."""

    pid: int
    host: str
    port: int
    started_at: float


class ServiceLockHeld(Exception):
    """Another process already serves this workspace."""


def log_path(layout: WorkspaceLayout) -> Path:
    """The service's log file (requests and errors, never the token)."""
    return ensure_private_dir(private_dir(layout)) / LOG_NAME


def acquire_service_lock(layout: WorkspaceLayout) -> int:
    """Take the workspace's service lock for the life of this process; returns its fd.

    Raises ServiceLockHeld when another process holds it."""
    folder = ensure_private_dir(private_dir(layout))
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ServiceLockHeld(str(folder / LOCK_NAME)) from None
    return fd


def service_lock_held(layout: WorkspaceLayout) -> bool:
    """True when some process holds the service lock (a service runs)."""
    try:
        fd = acquire_service_lock(layout)
    except ServiceLockHeld:
        return True
    os.close(fd)
    return False


def write_service_record(layout: WorkspaceLayout, record: ServiceRecord) -> None:
    """Record where this workspace's service listens (owner-only file)."""
    folder = ensure_private_dir(private_dir(layout))
    write_private_file(folder / RECORD_NAME, json.dumps(record._asdict()).encode())
    write_private_file(folder / PORT_NAME, str(record.port).encode())


def remembered_port(layout: WorkspaceLayout) -> int | None:
    """The port the workspace's service listened on last (None: never, or unreadable)."""
    data = read_private_file(private_dir(layout) / PORT_NAME) \
        if private_dir(layout).is_dir() else None
    text = data.decode(errors="replace").strip() if data else ""
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def read_service_record(layout: WorkspaceLayout) -> ServiceRecord | None:
    """The recorded service, or None when none was recorded or the record is unreadable."""
    data = read_private_file(private_dir(layout) / RECORD_NAME) \
        if private_dir(layout).is_dir() else None
    if not data:
        return None
    try:
        raw = json.loads(data)
        return ServiceRecord(int(raw["pid"]), str(raw["host"]), int(raw["port"]),
                             float(raw["started_at"]))
    except (ValueError, KeyError, TypeError):
        return None


def remove_service_record(layout: WorkspaceLayout, pid: int) -> None:
    """Remove the record if it is still the one of process `pid`."""
    found = read_service_record(layout)
    if found is not None and found.pid == pid:
        try:
            os.unlink(private_dir(layout) / RECORD_NAME)
        except FileNotFoundError:
            pass
