"""A step's container once started: waiting for it, letting a held one run, stopping and
removing it.

A container can be started held: its shell waits at the step's gate (a FIFO in the step
run's folder) and runs nothing of the step until `ContainerStep.release` writes to it. The
scheduler holds a step while its compute target has no free node; watch mode holds the
containers it starts ahead of a save (`runner.executors.precreated`).
"""
from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from runner.executors.base import StepOutcome

OOM_EXIT_CODE = 137

# sh waits at the gate of a held step, then replaces itself with the step's command, whose
# stdout and stderr go straight to the log files.
LAUNCH = ('[ -z "$AMLOCAL_GATE" ] || read _ <"$AMLOCAL_GATE"; '
          'exec "$0" "$@" >>"$AMLOCAL_STDOUT_FILE" 2>>"$AMLOCAL_STDERR_FILE"')


def new_gate(path: Path) -> Path:
    """Make the FIFO a held step's shell waits at (in the runner's step run folder)."""
    os.mkfifo(path, 0o600)
    return path


def remove_gate(path: Path) -> None:
    """Remove a held step's FIFO, if there (unlink never follows a link)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class ContainerStep:
    """A step running in a container; `close` removes the container."""

    pid: int | None = None
    create_time: float | None = None

    def __init__(self, api: Any, container_id: str, memory_mb: int | None,
                 gate: Path | None, on_exit: Callable[[], None] = lambda: None) -> None:
        self._api = api
        self._on_exit = on_exit  # hands what the step wrote back to the workspace owner
        self.container_id = container_id
        self._memory_mb = memory_mb
        self._gate = gate
        self._done = threading.Event()
        self._outcome: StepOutcome | None = None
        threading.Thread(target=self._wait, name=f"wait-{container_id[:12]}", daemon=True).start()

    def _wait(self) -> None:
        try:
            code = int(self._api.wait(self.container_id, timeout=None)["StatusCode"])
            reason = None
            if code == OOM_EXIT_CODE:
                state = self._api.inspect_container(self.container_id)["State"]
                if state.get("OOMKilled"):
                    reason = f"out of memory (limit {self._memory_mb} MiB)" if self._memory_mb \
                        else "out of memory"
                else:
                    reason = "killed (SIGKILL)"
            self._outcome = StepOutcome(code, reason)
        except Exception as exc:
            self._outcome = StepOutcome(None, f"lost contact with the Docker engine: {exc}")
        try:
            self._on_exit()
        finally:
            self._done.set()

    def wait(self, timeout: float) -> StepOutcome | None:
        return self._outcome if self._done.wait(timeout) else None

    def release(self) -> None:
        """Open the gate: the container's shell, blocked reading the FIFO, runs the script."""
        if self._gate is None:
            return
        while not self._done.is_set():
            try:
                fd = os.open(self._gate, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: the shell has not opened it yet
                    raise
                time.sleep(0.005)
                continue
            try:
                os.write(fd, b"go\n")
            finally:
                os.close(fd)
            return

    def stop(self, grace_seconds: float) -> None:
        try:
            self._api.stop(self.container_id, timeout=max(1, int(grace_seconds)))
        except Exception:
            pass  # already gone; close() removes whatever is left
        self._done.wait(5)

    def close(self) -> None:
        """Remove the container, and the gate it was held at."""
        try:
            self._api.remove_container(self.container_id, force=True)
        except Exception:
            pass  # removed already (or the engine is gone: the next runner start reaps it)
        if self._gate is not None:
            remove_gate(self._gate)
