"""The service's run queue: starts the runs the service recorded as Queued, oldest first, with
at most `slots` runners of its own at once.

A REST submit (or a schedule firing) only records its run and wakes the dispatcher, so the
service answers in milliseconds whatever the load; the dispatcher, in its own thread with its
own database connection, starts the run's runner process when a slot is free, at a lower CPU
priority; the runner reads the git facts and decides what can be reused
(runner/engine/submit_plan.py). Bounding the runners is what keeps a burst of submits
from starting hundreds of processes on a few cores. Queued runs left by a service that is
gone (killed, restarted) are taken over. A runner that exits before it claims its run (it
crashed at start) ends that run Failed with the reason, so no run waits for ever.
"""
from __future__ import annotations

import logging
import os
import threading

import psutil

from runner.client import Client
from runner.executors.processes import process_alive
from store import status as st
from store.layout import WorkspaceLayout
from store.run_queue import end_queued_run, queued_runs, still_queued, take_over_queued
from store.settings import SERVICE_RUNS, check_setting, setting_values
from store.workspace import OpenWorkspace, open_workspace

RUNNER_NICENESS = 10  # the service answers first; its runs take the CPU it leaves
POLL_SECONDS = 5.0  # a look at the queue even without a wake-up (runs of a service gone)
log = logging.getLogger("amlocal.service.queue")


def runner_slots(layout: WorkspaceLayout) -> int:
    """How many runs the service runs at once: the `service_runs` setting, else one per CPU."""
    text = setting_values(layout).get(SERVICE_RUNS)
    if text is None:
        return max(1, os.cpu_count() or 1)
    check_setting(SERVICE_RUNS, text)  # a hand-edited file may say anything
    return int(text)


class RunDispatcher:
    """Starts this service's queued runs, at most `slots` runners at once (see the module)."""

    def __init__(self, layout: WorkspaceLayout, slots: int) -> None:
        self.layout = layout
        self.slots = slots
        me = psutil.Process()
        self.owner: tuple[int, float] = (me.pid, me.create_time())
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._running: set[str] = set()          # runs whose runner we started and that run
        self._exited: list[tuple[str, int]] = []  # (run, returncode) of runners that ended
        # opened now, before the service says where it listens: afterwards the workspace may
        # be removed at any moment, and opening a database that is gone would make a new one
        self._local = open_workspace(layout)
        self._thread = threading.Thread(target=self._loop, name="run-dispatcher", daemon=True)

    def start(self) -> None:
        """Start dispatching (in a thread of its own)."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop dispatching; the runners started keep running, queued runs stay queued for the
        next service to take over."""
        self._stopping.set()
        self._wake.set()
        if self._thread.ident is None:  # never started: its connection is still ours to close
            self._local.close()
        else:
            self._thread.join(timeout)

    def notify(self) -> None:
        """A run was queued: look at the queue now, if a slot is free (else the next runner
        that ends wakes the dispatcher; waking it for nothing would take the CPU, and the
        GIL, from the requests)."""
        if self.running() < self.slots:
            self._wake.set()

    def running(self) -> int:
        """How many runners of this service run now."""
        with self._lock:
            return len(self._running)

    def _loop(self) -> None:
        local = self._local
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                if not self.layout.db_path.exists():
                    return  # the workspace is gone (the schedule loop stops the service)
                try:
                    self._settle_exited(local)
                    self._dispatch(local)
                except Exception:  # noqa: BLE001 - a damaged row or a busy database: next round
                    log.exception("dispatching queued runs failed")
                self._wake.wait(POLL_SECONDS)
        finally:
            local.close()

    def _runner_exited(self, run_id: str, code: int) -> None:
        with self._lock:
            self._running.discard(run_id)
            self._exited.append((run_id, code))
        self._wake.set()

    def _settle_exited(self, local: OpenWorkspace) -> None:
        """End the runs whose runner exited before it claimed them."""
        with self._lock:
            exited, self._exited = self._exited, []
        for run_id, code in exited:
            if still_queued(local.conn, run_id):
                reason = (f"its runner exited (status {code}) before it started the run; see "
                          f"{local.layout.runner_log(run_id)}")
                if end_queued_run(local.conn, run_id, st.FAILED, reason):
                    log.error("run %s: %s", run_id, reason)

    def _dispatch(self, local: OpenWorkspace) -> None:
        client = Client(local)
        with self._lock:
            wanted = self.slots - len(self._running)
        if wanted <= 0:
            return
        for queued in queued_runs(local.conn, limit=self.slots + wanted):
            if self._stopping.is_set() or self.running() >= self.slots:
                return
            with self._lock:
                if queued.id in self._running:
                    continue  # started; its runner has not claimed it yet
            owner = (queued.owner_pid, queued.owner_create_time)
            if owner != self.owner:
                if queued.owner_pid is not None and process_alive(*owner):
                    continue  # another live process queued it (never two services, but safe)
                if not take_over_queued(local.conn, queued.id, queued.owner_pid, *self.owner):
                    continue
                log.info("took over queued run %s from a service that is gone", queued.id)
            with self._lock:
                self._running.add(queued.id)
            try:
                client.start_queued(
                    queued.id, lambda code, run_id=queued.id: self._runner_exited(run_id, code),
                    RUNNER_NICENESS)
            except Exception as exc:  # noqa: BLE001 - e.g. no process can be started now
                with self._lock:
                    self._running.discard(queued.id)
                reason = f"its runner could not be started: {type(exc).__name__}: {exc}"
                end_queued_run(local.conn, queued.id, st.FAILED, reason)
                log.error("run %s: %s", queued.id, reason)
                continue
            log.info("started the runner of run %s (%d of %d slots busy)", queued.id,
                     self.running(), self.slots)
