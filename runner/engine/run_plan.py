"""Reuse decided once: at submit, every step whose inputs are already known is decided (and a
reused one recorded as finished); the runner decides only the steps that wait for an upstream
step to run, when it has run (an upstream rerun may still produce identical output).

`plan_run` only reads; `record_plan` writes what was decided. A step whose facts cannot be
gathered yet (an image not built, input data missing) is left to the runner, which meets the
same problem with the step and says so there.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from typing import Mapping

from runner.engine.ingest import replay_parent_metrics
from runner.engine.reuse import ReuseDecision, decide
from runner.engine.run_context import RunContext
from runner.engine.step_facts import FactGatherer
from runner.errors import RunnerError
from runner.executors.base import ResolvedEnvironment
from store import status as st
from store.artifacts import copy_artifacts
from store.errors import StoreError
from store.layout import StepRunFiles
from store.metrics import copy_metrics
from store.records import StepRunRecord, StoredOutput
from store.runs import update_step_run

RUNNABLE_KINDS = ("python", "data_transfer", "parallel")


class StepSourceError(RunnerError):
    """A step's source directory cannot be snapshotted (it is gone, or unreadable)."""


@dataclass(frozen=True)
class StepPlan:
    """What was decided for one step before it ran, and what that decision was made of
    (`decision` None: it waits for an upstream step to run, and the runner decides it)."""

    step_run_id: str
    snapshot_id: str | None
    environment: ResolvedEnvironment | None = None
    decision: ReuseDecision | None = None


def plan_run(ctx: RunContext, step_run_ids: Mapping[str, str],
             gatherer: FactGatherer) -> dict[str, StepPlan]:
    """Snapshot every step's source (as Azure does at submit) and decide, in topological
    order, every step whose upstream steps are all reused.

    Reads only (the store, the sources, data). `ctx.producer_outputs` learns the outputs
    of the steps found reusable, which is what their dependents are decided on.
    """
    plans: dict[str, StepPlan] = {}
    for step in ctx.spec.ordered_steps():
        if step.kind not in RUNNABLE_KINDS:
            continue
        step_run_id = step_run_ids[step.node_id]
        try:
            snapshot_id = gatherer.snapshot_id(step)
        except (RunnerError, StoreError) as exc:
            raise StepSourceError(f"step {step.name}: {exc}") from exc
        if not ctx.upstream_finished(step):
            plans[step.node_id] = StepPlan(step_run_id, snapshot_id)
            continue
        try:
            environment = gatherer.environment(step, os.devnull)
            facts = gatherer.gather(step, snapshot_id, environment)
        except (RunnerError, StoreError, ValueError):
            plans[step.node_id] = StepPlan(step_run_id, snapshot_id)
            continue  # left to the runner, which says what is wrong with the step itself
        decision = decide(step, facts, ctx.parameters, gatherer.history, step_run_id=step_run_id,
                          regenerate=ctx.run.regenerate_outputs,
                          forced=ctx.forced_reason(step.node_id))
        plans[step.node_id] = StepPlan(step_run_id, snapshot_id, environment, decision)
        if decision.reused is not None:
            ctx.producer_outputs[step.node_id] = decision.reused.outputs
    return plans


def record_plan(conn: sqlite3.Connection, ctx: RunContext, executor_name: str,
                plans: Mapping[str, StepPlan]) -> bool:
    """Record every decision in `plans` (finishing the reused steps); True when every step of
    the run was reused, and the run is therefore finished too."""
    for plan in plans.values():
        if plan.decision is None or plan.environment is None:
            update_step_run(conn, plan.step_run_id, snapshot_id=plan.snapshot_id)
            continue
        record_decision(conn, plan.step_run_id, executor_name, plan.snapshot_id, plan.decision,
                        plan.environment)
        if plan.decision.reused is not None:
            record_reuse(conn, ctx, plan.step_run_id, plan.decision.reused, plan.environment)
    return len(plans) == len(ctx.spec.steps) and all(
        p.decision is not None and p.decision.reused is not None for p in plans.values())


def record_decision(conn: sqlite3.Connection, step_run_id: str, executor_name: str,
                    snapshot_id: str | None, decision: ReuseDecision,
                    environment: ResolvedEnvironment) -> None:
    """Record a step's reuse decision, its fingerprint and the environment it was made for."""
    update_step_run(conn, step_run_id, executor=executor_name, snapshot_id=snapshot_id,
                    decision=decision.word, reason=decision.reason, fingerprint=decision.fingerprint,
                    fingerprint_fields=decision.fields, fingerprint_about=decision.about,
                    properties=environment.facts)


def record_reuse(conn: sqlite3.Connection, ctx: RunContext, step_run_id: str,
                 reused: StepRunRecord, environment: ResolvedEnvironment) -> Mapping[str, StoredOutput]:
    """Finish `step_run_id` as a stand-in for `reused`: the SDK's reuse properties, and
    `reused`'s metrics, artifacts and `run.parent` metrics, so a reused run reads and compares
    like the run it repeats. Returns the outputs it hands downstream, which are `reused`'s."""
    now = time.time()
    properties = {**environment.facts, "azureml.reusedrunid": reused.id,
                  "azureml.reusedpipeline": reused.pipeline_run_id,
                  "azureml.reusednodeid": reused.node_id}
    copy_metrics(conn, reused.id, step_run_id)
    copy_artifacts(conn, reused.id, step_run_id)
    replay_parent_metrics(conn, StepRunFiles(reused.run_dir).events, reused.pipeline_run_id,
                          ctx.run_id)
    update_step_run(conn, step_run_id, status=st.FINISHED, start_time=now, end_time=now,
                    reused_step_run_id=reused.id, outputs=reused.outputs, arguments=reused.arguments,
                    properties=properties)
    return reused.outputs
