"""The local executor: each step is a child process in its own session (process group)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import psutil

from runner.engine.liveness import kill_process_group
from runner.executors.base import StepInvocation, StepOutcome


class LocalProcess:
    """A step running as a local process group."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self._proc = proc
        self.pid = proc.pid
        try:
            self.create_time = psutil.Process(proc.pid).create_time()
        except psutil.NoSuchProcess:
            self.create_time = 0.0

    def wait(self, timeout: float) -> StepOutcome | None:
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if code < 0:
            return StepOutcome(code, f"killed by signal {-code}")
        return StepOutcome(code)

    def stop(self, grace_seconds: float) -> None:
        if self._proc.poll() is None:
            kill_process_group(self.pid, None, grace_seconds)
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


class LocalExecutor:
    """Runs steps as processes of this machine, with the host paths as they are."""

    name = "local"

    def map_path(self, host_path: Path) -> str:
        return str(host_path)

    def start(self, invocation: StepInvocation) -> LocalProcess:
        with open(invocation.stdout_path, "ab") as out, open(invocation.stderr_path, "ab") as err:
            proc = subprocess.Popen(invocation.argv, cwd=invocation.cwd, env=invocation.env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, close_fds=True)
        return LocalProcess(proc)
