"""The local executor: each step is a child process in its own session (process group)."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable

import psutil

from runner.executors.base import (Capabilities, ResolvedEnvironment, StepInvocation, StepOutcome,
                                   Usage, environment_label)
from runner.executors.processes import kill_process_group, process_alive
from runner.spec import EnvironmentSpec
from store import status as st
from store.records import StepRunRecord

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
        self._descendants: dict[int, psutil.Process] = {}
        threading.Thread(target=self._reap, name=f"reap-{proc.pid}", daemon=True).start()

    def _reap(self) -> None:
        self._proc.wait()
        self._exited.set()

    def release(self) -> None:
        pass  # never held: a process has no start-up worth paying early

    def wait(self, timeout: float) -> StepOutcome | None:
        if not self._exited.wait(timeout):
            self._note_descendants()
            return None
        code = self._proc.returncode
        if code < 0:
            return StepOutcome(code, f"killed by signal {-code}")
        return StepOutcome(code)

    def stop(self, grace_seconds: float) -> None:
        if not self._exited.is_set():
            kill_process_group(self.pid, None, grace_seconds)
        self._exited.wait(5)

    def _note_descendants(self) -> None:
        """Remember the step's descendants seen so far (one that left its process group, with
        setsid, is still stopped when the step ends)."""
        try:
            for child in psutil.Process(self.pid).children(recursive=True):
                self._descendants.setdefault(child.pid, child)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass

    def close(self) -> None:
        """Stop the step and every descendant: its process group (where a double-forked child
        still is), then each descendant seen while it ran."""
        if not self._exited.is_set():
            self.stop(0.0)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for child in self._descendants.values():
            try:
                if child.is_running():  # psutil checks it is the same process (create time)
                    child.kill()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass


class LocalExecutor:
    """Runs steps as processes of this machine, with the host paths as they are.

    The step's environment (pip packages, base image) is not installed: steps use the
    runner's Python, and `resolve_environment` says so in the step's preparation log.
    """

    name = "local"
    capabilities = Capabilities(warm_start=False)

    def __init__(self) -> None:
        self.python = os.environ.get("AMLOCAL_PYTHON") or sys.executable
        self._sampled: dict[int, psutil.Process] = {}

    def map_path(self, host_path: Path) -> str:
        return str(host_path)

    def base_environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}

    def resolve_environment(self, environment: EnvironmentSpec, log_path: Path) -> ResolvedEnvironment:
        """The runner's Python; the environment's packages are not installed, and it says so."""
        notes = []
        packages = [p for p in environment.packages if p.split("=")[0].split("<")[0].split(">")[0]
                    .strip().lower() not in ("pip", "python", "setuptools", "wheel")]
        if packages:
            notes.append(f"local executor: environment packages {', '.join(packages)} "
                         f"are not installed; the step runs with {self.python}\n")
        running = "%d.%d" % sys.version_info[:2]
        if environment.asked_python and environment.asked_python != running:
            notes.append(f"local executor: environment {environment.name} asks for Python "
                         f"{environment.asked_python}; the step runs with Python {running} "
                         f"({self.python})\n")
        if notes:
            with open(log_path, "a") as log:
                log.writelines(notes)
        text = json.dumps({"python": self.python, "version": sys.version,
                           "spec": environment.to_json()}, sort_keys=True, default=str)
        label = environment_label(environment, f"local {Path(self.python).name} "
                                  f"{sys.version.split()[0]}", ("environment_variables",))
        return ResolvedEnvironment("local:" + hashlib.sha256(text.encode()).hexdigest(), None, {},
                                   label)

    def start(self, invocation: StepInvocation, held: bool = False) -> LocalProcess:
        files = invocation.files
        with open(files.stdout, "ab") as out, open(files.stderr, "ab") as err:
            proc = subprocess.Popen(list(invocation.argv), cwd=invocation.cwd, env=dict(invocation.env),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, close_fds=True)
        return LocalProcess(proc)

    def usage(self, step: StepRunRecord) -> Usage | None:
        """CPU and memory of the step's process tree (CPU since the previous sample)."""
        pid = step.process_id
        if not process_alive(pid, step.process_create_time):
            self._sampled.pop(pid or 0, None)
            return None
        try:
            root = self._sampled.setdefault(pid, psutil.Process(pid))
            tree = [root, *root.children(recursive=True)]
            cpu = sum(p.cpu_percent(None) for p in tree)
            memory = sum(p.memory_info().rss for p in tree)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return Usage(cpu, memory / 2**20)

    def stop_lost_steps(self, pipeline_run_id: str, steps: Iterable[StepRunRecord]) -> None:
        """Stop the process groups of the given steps that are still running."""
        for step in steps:
            if step.status in st.ACTIVE and step.process_id:
                kill_process_group(step.process_id, step.process_create_time, grace=1.0)

    def reap_orphans(self, keep_run: Callable[[str | None], bool]) -> list[str]:
        """Nothing to do: a lost run's processes are stopped by whoever finds it lost."""
        return []
