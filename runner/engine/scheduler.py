"""Walking a pipeline run's DAG: a step starts when everything upstream finished, up to its
compute target's node limit; a failure stops its dependents (each says why), and the whole
run unless `continue_on_step_failure`."""
from __future__ import annotations

import json
import os
import queue
import threading
import time
import uuid
from pathlib import Path

import psutil

from runner.engine.step_execution import SnapshotCache, StepExecution, StepResult
from runner.engine.step_launch import RunFacts
from runner.executors.base import Executor
from store import status as st
from store.catalog import get_compute_target, get_pipeline_spec
from store.run_numbers import pipeline_run_number
from store.runs import (NewStepRun, cancel_requested, create_step_runs, finish_open_step_runs,
                        finish_pipeline_run, get_pipeline_run, mark_runner_started, update_step_run)
from store.settings import read_settings
from store.workspace import OpenWorkspace

POLL_SECONDS = 0.5


def step_dependencies(spec: dict) -> dict[str, set[str]]:
    """node id → the node ids it waits for (data producers and run_after)."""
    deps: dict[str, set[str]] = {}
    for step in spec["steps"]:
        ups = {i["source"]["node"] for i in step["inputs"] if i["source"]["type"] == "step_output"}
        deps[step["node_id"]] = ups | set(step.get("run_after", []))
    return deps


def create_run_steps(conn, run_id: str, run_dir: Path, spec: dict) -> dict[str, str]:
    """Create the (NotStarted) step runs of a pipeline run; returns node id → step run id."""
    step_ids = {s["node_id"]: str(uuid.uuid4()) for s in spec["steps"]}
    create_step_runs(conn, run_id, [
        NewStepRun(step_ids[s["node_id"]], s["node_id"], s["name"], i,
                   str(run_dir / step_ids[s["node_id"]]), s.get("compute_target"))
        for i, s in enumerate(spec["steps"])])
    return step_ids


def topological_order(spec: dict) -> list[str]:
    """Node ids, each after every node it waits for (the spec's order among equals)."""
    deps = step_dependencies(spec)
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(deps):
        ready = [n for n in deps if n not in placed and deps[n] <= placed]
        if not ready:
            raise ValueError("the pipeline graph has a cycle")
        order += ready
        placed.update(ready)
    return order


def descendants(deps: dict[str, set[str]], node: str) -> set[str]:
    """Every node that depends, directly or not, on `node`."""
    found: set[str] = set()
    frontier = [node]
    while frontier:
        current = frontier.pop()
        for other, ups in deps.items():
            if current in ups and other not in found:
                found.add(other)
                frontier.append(other)
    return found


class PipelineRunExecution:
    """Executes one pipeline run in this (runner) process."""

    def __init__(self, local: OpenWorkspace, run_id: str, executor: Executor) -> None:
        self.local = local
        self.run_id = run_id
        self.executor = executor
        self.stop = threading.Event()
        self.stop_reason: list[str] = []

    def request_stop(self, reason: str) -> None:
        """Stop everything still running or waiting (idempotent; the first reason wins)."""
        if not self.stop_reason:
            self.stop_reason.append(reason)
        self.stop.set()

    def _limit(self, target: str | None) -> int:
        row = get_compute_target(self.local.conn, target) if target and target != "local" else None
        if row is not None and row["max_nodes"]:
            return max(1, int(row["max_nodes"]))
        return max(1, os.cpu_count() or 1)

    def execute(self) -> str:
        conn = self.local.conn
        run = get_pipeline_run(conn, self.run_id)
        me = psutil.Process()
        mark_runner_started(conn, self.run_id, me.pid, me.create_time())
        spec = get_pipeline_spec(conn, run["pipeline_id"])
        props = json.loads(run["properties_json"])
        identity = {k.split(".", 2)[2]: v for k, v in props.items() if k.startswith("amlocal.workspace.")}
        facts = RunFacts(self.local.layout, self.run_id, run["experiment_name"],
                         json.loads(run["parameters_json"]), identity,
                         regenerate_outputs=bool(run["regenerate_outputs"]),
                         reuse_mode=read_settings(self.local.layout).get("reuse", "content"),
                         run_number=pipeline_run_number(conn, self.run_id))
        steps = {s["node_id"]: s for s in spec["steps"]}
        run_dir = Path(run["run_dir"])
        step_ids = create_run_steps(conn, self.run_id, run_dir, spec)
        deps = step_dependencies(spec)
        pending = set(steps)
        running: dict[str, threading.Thread] = {}
        in_use: dict[str, int] = {}  # target → steps holding one of its nodes
        waiting: dict[str, threading.Event] = {}  # node → its slot, set when a node frees up
        # (node, result) when a step ends; (node, None) when its container or process is up.
        done: queue.Queue[tuple[str, StepResult | None]] = queue.Queue()
        started: set[str] = set()
        finished: set[str] = set()
        failures: list[str] = []
        snapshots = SnapshotCache()
        warm_start = getattr(self.executor, "warm_start", False)

        def target_of(node: str) -> str:
            return steps[node].get("compute_target") or "local"

        def launch(node: str, slot: threading.Event | None) -> None:
            step = steps[node]
            step_dir = run_dir / step_ids[node]
            step_dir.mkdir(parents=True, exist_ok=True)
            execution = StepExecution(facts, step, step_ids[node], step_dir, self.executor,
                                      snapshots, self.stop, self.stop_reason, slot,
                                      on_started=lambda: done.put((node, None)))
            thread = threading.Thread(target=lambda: done.put((node, execution.run())),
                                      name=f"step-{step['name']}", daemon=True)
            running[node] = thread
            thread.start()

        def schedule() -> None:
            """Give free nodes to warm waiting steps first, then start or warm up ready ones."""
            for node in list(waiting):
                if in_use.get(target_of(node), 0) < self._limit(target_of(node)):
                    in_use[target_of(node)] = in_use.get(target_of(node), 0) + 1
                    waiting.pop(node).set()
            for node in sorted(pending, key=lambda n: list(steps).index(n)):
                if not deps[node] <= finished:
                    continue
                target, limit = target_of(node), self._limit(target_of(node))
                if in_use.get(target, 0) < limit:
                    pending.discard(node)
                    in_use[target] = in_use.get(target, 0) + 1
                    launch(node, None)
                elif (warm_start and sum(target_of(n) == target for n in waiting) < limit
                      and all(n in started for n in running
                              if target_of(n) == target and n not in waiting)):
                    # Its container starts now and waits for a node: the start-up cost is paid
                    # while the running steps work (once they are up, so as not to slow their
                    # start), not after they end. The waiting ones start side by side.
                    pending.discard(node)
                    waiting[node] = threading.Event()
                    launch(node, waiting[node])

        while pending or running:
            if not self.stop.is_set() and cancel_requested(conn, self.run_id):
                self.request_stop("canceled by user")
            if not self.stop.is_set():
                schedule()
            elif pending:
                for node in pending:
                    update_step_run(conn, step_ids[node], status=st.CANCELED,
                                    error=f"not run: {self.stop_reason[0]}")
                pending.clear()
            if not running:
                if pending:  # nothing can start: every remaining step waits on a failed one
                    break
                continue
            try:
                node, result = done.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if result is None:
                started.add(node)
                continue
            running.pop(node).join()
            if waiting.pop(node, None) is None:  # it held a node (it never got one otherwise)
                in_use[target_of(node)] -= 1
            if result.status == st.FINISHED:
                finished.add(node)
                facts.producer_outputs[node] = result.outputs or {}
            elif result.status == st.FAILED:
                failures.append(steps[node]["name"])
                if not run["continue_on_step_failure"]:
                    self.request_stop(f"step {steps[node]['name']} failed")
                else:
                    for other in descendants(deps, node) & pending:
                        update_step_run(conn, step_ids[other], status=st.CANCELED,
                                        error=f"not run: upstream step {steps[node]['name']} failed")
                        pending.discard(other)
        return self._finish(failures)

    def _finish(self, failures: list[str]) -> str:
        conn = self.local.conn
        if failures:
            finish_open_step_runs(conn, self.run_id, st.CANCELED, "not run: an upstream step failed")
            finish_pipeline_run(conn, self.run_id, st.FAILED,
                                f"step{'s' if len(failures) > 1 else ''} failed: {', '.join(failures)}")
            return st.FAILED
        if self.stop.is_set():
            reason = self.stop_reason[0]
            finish_open_step_runs(conn, self.run_id, st.CANCELED, reason)
            finish_pipeline_run(conn, self.run_id, st.CANCELED, reason)
            return st.CANCELED
        finish_pipeline_run(conn, self.run_id, st.FINISHED)
        return st.FINISHED
