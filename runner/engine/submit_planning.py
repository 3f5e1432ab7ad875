"""Finishing a run at submit when every step can be reused, without starting a runner.

The SDK decides reuse before anything runs (`Graph.finalize` asks the service for each
module); amlocal does the same in the submitting client. When every step has a valid
earlier run to stand in for it, the run is recorded as finished on the spot: no runner
process, no waiting. Otherwise nothing is written and the runner decides again, step by
step, as data arrives (an upstream rerun may still produce identical output).
"""
from __future__ import annotations

import json
import os

from runner.engine.executor_choice import ExecutorChoice
from runner.engine.reuse import ReuseDecision, ReusePlanner, decide_step, record_reuse
from runner.engine.scheduler import create_run_steps, topological_order
from runner.engine.step_execution import SnapshotCache
from runner.engine.step_launch import RunFacts
from runner.errors import RunnerError
from runner.executors.base import Executor, ResolvedEnvironment
from store import status as st
from store.catalog import get_pipeline_spec
from store.errors import StoreError
from store.runs import finish_pipeline_run, get_pipeline_run, update_step_run
from store.settings import read_settings
from store.snapshots import SnapshotStore
from store.workspace import OpenWorkspace


def _executor(local: OpenWorkspace, choice: ExecutorChoice) -> Executor:
    if choice.name == "docker":
        from runner.executors.docker import DockerExecutor
        return DockerExecutor(local.layout, choice.base_image, may_build=False)
    from runner.executors.local import LocalExecutor
    return LocalExecutor()


def finish_if_all_reused(local: OpenWorkspace, run_id: str, choice: ExecutorChoice,
                         identity: dict[str, str]) -> bool:
    """Record run `run_id` as finished by reuse if every step can be reused; True if it was."""
    conn = local.conn
    run = get_pipeline_run(conn, run_id)
    if run["regenerate_outputs"]:
        return False
    spec = get_pipeline_spec(conn, run["pipeline_id"])
    steps = {s["node_id"]: s for s in spec["steps"]}
    facts = RunFacts(local.layout, run_id, run["experiment_name"], json.loads(run["parameters_json"]),
                     identity, reuse_mode=read_settings(local.layout).get("reuse", "content"))
    planned: dict[str, tuple[ReuseDecision, ResolvedEnvironment, str | None]] = {}
    try:
        executor = _executor(local, choice)
        planner = ReusePlanner(conn, facts, facts.reuse_mode)
        store, snapshots = SnapshotStore(local.layout.snapshots_dir, conn), SnapshotCache()
        for node in topological_order(spec):
            step = steps[node]
            if step.get("kind") not in ("python", "data_transfer") or not step.get("allow_reuse", True):
                return False
            snapshot_id = None
            if step.get("kind") == "python":
                snapshot_id = step.get("snapshot_id") or snapshots.snapshot_id(
                    store, step["source_directory"], (local.layout.root,))
            decision, environment = decide_step(planner, executor, step, "", snapshot_id, os.devnull)
            if decision.reused is None:
                return False
            facts.producer_outputs[node] = json.loads(decision.reused["outputs_json"])
            planned[node] = (decision, environment, snapshot_id)
    except (RunnerError, StoreError, ValueError):
        return False  # the runner will meet the same problem and say so with the step
    step_ids = create_run_steps(conn, run_id, local.layout.pipeline_run_dir(run_id), spec)
    for node, (decision, environment, snapshot_id) in planned.items():
        update_step_run(conn, step_ids[node], executor=executor.name, decision="reused",
                        reason=decision.reason, fingerprint=decision.fingerprint,
                        snapshot_id=snapshot_id,
                        fingerprint_json={"fields": decision.fields, "about": decision.about})
        record_reuse(conn, step_ids[node], run_id, decision.reused, environment.facts)
    finish_pipeline_run(conn, run_id, st.FINISHED)
    return True
