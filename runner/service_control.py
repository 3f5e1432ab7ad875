"""Start, find and stop the workspace service (runner/service) from any client.

`publish()` and the CLI call `ensure_service`: when no service runs for the workspace, one is
started detached (`python -m runner.service --workspace … --port 0`), its pid and port are
read back from the workspace's service record, and one line says so on stderr. This module
starts the service as a process and never imports it, so the SDK can use it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from runner.errors import RunnerError
from runner.executors.processes import process_alive
from store.layout import WorkspaceLayout
from store.service_record import (ServiceRecord, log_path, read_service_record,
                                  service_lock_held)

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
API_PREFIX = "/pipelines/v1.0"
SCHEDULE_TAG = "amlocal.schedule_id"  # the tag of a run a schedule started


class ServiceError(RunnerError):
    """The workspace service could not be started or reached."""


def running_service(layout: WorkspaceLayout) -> ServiceRecord | None:
    """The service serving this workspace, or None (a stale record counts as none)."""
    record = read_service_record(layout)
    if record is None or not process_alive(record.pid, None) or not service_lock_held(layout):
        return None  # a zombie, or a killed one whose threads still go, serves nothing
    return record


def base_url(record: ServiceRecord) -> str:
    """`http://host:port` of a running service (a wildcard host is reached on loopback)."""
    host = "127.0.0.1" if record.host in ("0.0.0.0", "") else record.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{record.port}"


def workspace_path(subscription_id: str, resource_group: str, workspace_name: str) -> str:
    """The Azure path of a workspace below the API prefix."""
    return (f"{API_PREFIX}/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}")


def ensure_service(layout: WorkspaceLayout, *, quiet: bool = False) -> ServiceRecord:
    """The running service of this workspace, started in the background if none runs."""
    found = running_service(layout)
    if found is not None:
        return found
    log = os.fdopen(os.open(log_path(layout), os.O_WRONLY | os.O_CREAT | os.O_APPEND
                            | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), "ab")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner.service", "--workspace", str(layout.root),
             "--port", "0", "--background"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            close_fds=True, cwd=str(layout.root))
    finally:
        log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        record = read_service_record(layout)
        if record is not None and process_alive(record.pid, None) and service_lock_held(layout):
            if not quiet:
                print(f"amlocal: started the workspace service on {base_url(record)} "
                      f"(pid {record.pid}; `amlocal service stop` ends it)", file=sys.stderr)
            return record
        if proc.poll() is not None:
            found = running_service(layout)  # another process won the race: use its service
            if found is not None:
                return found
            raise ServiceError(f"the workspace service exited at start (status {proc.returncode}); "
                               f"see {log_path(layout)} or `amlocal service logs`")
        time.sleep(0.05)
    raise ServiceError(f"the workspace service did not start within {START_TIMEOUT_S:.0f} s; "
                       f"see `amlocal service logs`")


def stop_service(layout: WorkspaceLayout) -> ServiceRecord | None:
    """Stop the workspace's service (SIGTERM, then SIGKILL); the record of what was stopped."""
    record = running_service(layout)
    if record is None:
        return None
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return record
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and (service_lock_held(layout)
                                           or process_alive(record.pid, None)):
        time.sleep(0.05)  # gone, not only unlocked: what it owned is then seen as ownerless
    if service_lock_held(layout) or process_alive(record.pid, None):
        try:
            os.kill(record.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return record
