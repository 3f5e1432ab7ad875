"""Local processes: is one still the process we started, and stopping a process group politely
(ask, wait, kill), as watchfiles' `run_process` does."""
from __future__ import annotations

import os
import signal
import time

import psutil


def process_alive(pid: int | None, create_time: float | None) -> bool:
    """Whether the process `pid` that started at `create_time` still runs (zombies do not)."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if create_time is not None and abs(proc.create_time() - create_time) > 1.0:
            return False  # the pid was reused by another process
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def kill_process_group(pid: int | None, create_time: float | None, grace: float) -> None:
    """Stop the process group led by `pid`: SIGTERM, wait up to `grace` seconds, then SIGKILL."""
    if not process_alive(pid, create_time):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and process_alive(pid, create_time):
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
