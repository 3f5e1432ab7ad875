"""Executing one pipeline run: the loop that drives the scheduling state, running each step
through an injected callable (by default a `StepExecution` with the run's executor)."""
from __future__ import annotations

import os
import queue
import threading
from typing import Callable

import psutil

from runner.engine.run_context import RunContext
from runner.engine.scheduler import Launch, NotRun, Release, SchedulerState
from runner.engine.step_execution import StepExecution, StepResult, StopSignal
from runner.engine.step_facts import SnapshotCache
from runner.executors.base import Executor
from runner.spec import PipelineSpec, StepSpec
from store import status as st
from store.catalog import get_compute_target, get_pipeline
from store.records import StepRunRecord
from store.run_numbers import pipeline_run_number
from store.disk_space import NO_SPACE, SpaceReserve
from store.runs import (cancel_requested, finish_open_step_runs, finish_pipeline_run,
                        get_pipeline_run, get_step_runs, mark_runner_started, update_step_run)
from store.workspace import OpenWorkspace

POLL_SECONDS = 0.5

# (step, its step run, its slot or None, call when it is up) → how it ended
StepRunner = Callable[[StepSpec, StepRunRecord, "threading.Event | None", Callable[[], None]], StepResult]


def node_limits(local: OpenWorkspace, spec: PipelineSpec) -> dict[str, int]:
    """How many steps of each compute target may hold a node at once (`local`: one per CPU)."""
    limits: dict[str, int] = {}
    for step in spec.steps:
        target = step.target
        record = get_compute_target(local.conn, target) if target != "local" else None
        limits[target] = (max(1, int(record.max_nodes)) if record is not None and record.max_nodes
                          else max(1, os.cpu_count() or 1))
    return limits


class PipelineRunExecution:
    """Executes one pipeline run in this process: the runner process, or a watcher's thread."""

    def __init__(self, local: OpenWorkspace, run_id: str, executor: Executor,
                 run_step: StepRunner | None = None) -> None:
        self.local = local
        self.run_id = run_id
        self.executor = executor
        self.stop = StopSignal()
        self._run_step = run_step
        self.ctx: RunContext | None = None
        self._snapshots = SnapshotCache()
        self._records: dict[str, StepRunRecord] = {}
        self._machine_fault: str | None = None  # a step's "no space left on device (…)"

    def request_stop(self, reason: str) -> None:
        """Stop everything still running or waiting (idempotent; the first reason wins)."""
        self.stop.set(reason)

    def _default_run_step(self, step: StepSpec, record: StepRunRecord,
                          slot: threading.Event | None, on_started: Callable[[], None]) -> StepResult:
        assert self.ctx is not None
        return StepExecution(self.ctx, step, record, self.executor, self._snapshots, self.stop,
                             slot, on_started).run()

    def execute(self) -> str:
        """Run every step that is not finished yet; returns the run's final status."""
        conn = self.local.conn
        me = psutil.Process()
        if not mark_runner_started(conn, self.run_id, me.pid, me.create_time()):
            return get_pipeline_run(conn, self.run_id).status  # it ended before we came
        SpaceReserve(self.local.layout.root).keep()  # what lets a full disk's failure be recorded
        run = get_pipeline_run(conn, self.run_id)
        spec = PipelineSpec.from_json(get_pipeline(conn, run.pipeline_id).spec)
        ctx = self.ctx = RunContext.of(self.local.layout, run, spec)
        ctx.run_number = pipeline_run_number(conn, self.run_id)
        records = self._records = {r.node_id: r for r in get_step_runs(conn, self.run_id)}
        for node, record in records.items():
            if record.status == st.FINISHED:  # reused at submit
                ctx.producer_outputs[node] = record.outputs
        state = SchedulerState(
            spec.graph(), {s.node_id: s.target for s in spec.steps}, node_limits(self.local, spec),
            {s.node_id: s.name for s in spec.steps},
            warm_start=self.executor.capabilities.warm_start,
            continue_on_step_failure=run.continue_on_step_failure,
            finished={n for n, r in records.items() if r.status == st.FINISHED})
        run_step = self._run_step or self._default_run_step
        # (node, None) when a step's container or process is up; (node, result) when it ends.
        events: queue.Queue[tuple[str, StepResult | None]] = queue.Queue()
        threads: dict[str, threading.Thread] = {}
        slots: dict[str, threading.Event] = {}

        def launch(action: Launch) -> None:
            node = action.node
            slot = slots[node] = threading.Event() if action.warm else None
            step, record = spec.step(node), records[node]
            thread = threading.Thread(
                target=lambda: events.put((node, run_step(step, record, slot,
                                                          lambda: events.put((node, None))))),
                name=f"step-{step.name}", daemon=True)
            threads[node] = thread
            thread.start()

        while True:
            if not self.stop.is_set() and cancel_requested(conn, self.run_id):
                self.request_stop("canceled by user")
            if self.stop.is_set():
                self._not_run(state.stop(self.stop.reason))
            for action in state.schedule():
                if isinstance(action, Release):
                    slots[action.node].set()
                else:
                    launch(action)
            if state.done:
                break
            try:
                node, result = events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if result is None:
                state.step_started(node)
                continue
            threads.pop(node).join()
            if result.status == st.FINISHED:
                ctx.producer_outputs[node] = result.outputs or {}
            elif (result.error or "").startswith(NO_SPACE) and self._machine_fault is None:
                self._machine_fault = result.error
            not_run = state.step_ended(node, result.status)
            if state.stop_reason is not None:
                self.request_stop(state.stop_reason)
            self._not_run(not_run)
        return self._finish(state)

    def _not_run(self, steps: list[NotRun]) -> None:
        for item in steps:
            update_step_run(self.local.conn, self._records[item.node].id, status=st.CANCELED,
                            error=item.reason)

    def _finish(self, state: SchedulerState) -> str:
        status, reason = state.outcome()
        if status == st.FAILED and self._machine_fault:
            reason = f"{reason}: {self._machine_fault}"
        conn = self.local.conn
        if status != st.FINISHED:
            open_reason = "not run: an upstream step failed" if state.failures else reason or ""
            finish_open_step_runs(conn, self.run_id, st.CANCELED, open_reason)
        finish_pipeline_run(conn, self.run_id, status, reason)
        return status
