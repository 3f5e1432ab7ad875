"""The local executor: each step is a child process in its own session (process group)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import psutil

from runner.engine.liveness import kill_process_group
from runner.executors.base import ResolvedEnvironment, StepInvocation, StepOutcome, environment_label

# Environment variables of the runner that a step must not inherit (they are amlocal's or
# belong to another run).
_NOT_INHERITED = ("AMLOCAL_", "AZUREML_", "AML_PARAMETER_")


class LocalProcess:
    """A step running as a local process group."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self._proc = proc
        self.pid: int | None = proc.pid
        try:
            self.create_time: float | None = psutil.Process(proc.pid).create_time()
        except psutil.NoSuchProcess:
            self.create_time = 0.0
        # A blocking waitpid in a thread sees the exit at once; Popen.wait(timeout) polls with
        # sleeps of up to 50 ms, which a chain of short steps pays at every step.
        self._exited = threading.Event()
        threading.Thread(target=self._reap, name=f"reap-{proc.pid}", daemon=True).start()

    def _reap(self) -> None:
        self._proc.wait()
        self._exited.set()

    def release(self) -> None:
        pass  # never held: a process has no start-up worth paying early

    def wait(self, timeout: float) -> StepOutcome | None:
        if not self._exited.wait(timeout):
            return None
        code = self._proc.returncode
        if code < 0:
            return StepOutcome(code, f"killed by signal {-code}")
        return StepOutcome(code)

    def stop(self, grace_seconds: float) -> None:
        if not self._exited.is_set():
            kill_process_group(self.pid, None, grace_seconds)
        self._exited.wait(5)

    def close(self) -> None:
        if not self._exited.is_set():
            self.stop(0.0)


class LocalExecutor:
    """Runs steps as processes of this machine, with the host paths as they are.

    The step's environment (pip packages, base image) is not installed: steps use the
    runner's Python, and `prepare` says so in the step's preparation log.
    """

    name = "local"
    warm_start = False

    def __init__(self) -> None:
        self.python = os.environ.get("AMLOCAL_PYTHON") or sys.executable

    def map_path(self, host_path: Path) -> str:
        return str(host_path)

    def base_environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}

    def resolve_environment(self, environment: dict | None, log_path: Path) -> ResolvedEnvironment:
        """The runner's Python; the environment's packages are not installed, and it says so."""
        spec = environment or {}
        packages = [*(spec.get("conda_packages") or []), *(spec.get("pip_packages") or [])]
        if packages:
            with open(log_path, "a") as log:
                log.write(f"local executor: environment packages {', '.join(packages)} "
                          f"are not installed; the step runs with {self.python}\n")
        text = json.dumps({"python": self.python, "version": sys.version, "spec": spec},
                          sort_keys=True, default=str)
        label = environment_label(spec, f"local {Path(self.python).name} {sys.version.split()[0]}",
                                  ("environment_variables",))
        return ResolvedEnvironment("local:" + hashlib.sha256(text.encode()).hexdigest(), None, {},
                                   label)

    def start(self, invocation: StepInvocation, held: bool = False) -> LocalProcess:
        with open(invocation.stdout_path, "ab") as out, open(invocation.stderr_path, "ab") as err:
            proc = subprocess.Popen(invocation.argv, cwd=invocation.cwd, env=invocation.env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, close_fds=True)
        return LocalProcess(proc)
