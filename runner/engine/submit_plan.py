"""Deciding at submit what can be reused, and preparing a run that waited in a queue.

A client submitting a run decides at once what it can (`plan_at_submit`), so that a run whose
steps are all reused is finished before any runner starts. A run the workspace service
queued was recorded without that work, to answer fast; its runner does it when it starts
(`prepare_queued_run`): it claims the run, reads the git facts of its source and decides what
can be reused, in its own process rather than in the service's.
"""
from __future__ import annotations

from pathlib import Path

from runner.engine.gitinfo import read_git_info
from runner.engine.run_context import RunContext
from runner.engine.run_plan import plan_run, record_plan
from runner.engine.step_facts import FactGatherer, SnapshotCache, StoreHistory
from runner.errors import RunnerError
from runner.executors.registry import make_executor
from runner.spec import PipelineSpec
from store import status as st
from store.catalog import get_pipeline
from store.records import PipelineRunRecord
from store.run_queue import record_git_facts
from store.runs import finish_pipeline_run, get_pipeline_run, get_step_runs, mark_runner_started
from store.workspace import OpenWorkspace


def plan_at_submit(local: OpenWorkspace, spec: PipelineSpec, run: PipelineRunRecord,
                   executor_name: str, base_image: str | None) -> bool:
    """Decide and record what can be decided now; True when every step was reused (and the
    run is therefore Finished)."""
    conn = local.conn
    ctx = RunContext.of(local.layout, run, spec)
    try:
        executor = make_executor(executor_name, local.layout, base_image, may_build=False)
    except RunnerError:
        return False  # the runner meets the same problem and says so
    step_run_ids = {r.node_id: r.id for r in get_step_runs(conn, run.id)}
    gatherer = FactGatherer(StoreHistory(conn, ctx), executor, SnapshotCache())
    plans = plan_run(ctx, step_run_ids, gatherer)
    if record_plan(conn, ctx, executor.name, plans):
        finish_pipeline_run(conn, run.id, st.FINISHED)
        return True
    return False


def source_folder(spec: PipelineSpec) -> str | None:
    """The folder whose git facts a run of `spec` records: its first step's source."""
    return next((s.source_directory for s in spec.steps if s.source_directory), None)


def prepare_queued_run(local: OpenWorkspace, run_id: str, pid: int, create_time: float) -> str | None:
    """Claim the queued run `run_id` for the runner `pid` and do what its submit left for
    later. None when it is to be executed; else its status (it ended before we came, e.g.
    canceled in the queue, or every step was reused)."""
    conn = local.conn
    if not mark_runner_started(conn, run_id, pid, create_time):
        return get_pipeline_run(conn, run_id).status
    run = get_pipeline_run(conn, run_id)
    spec = PipelineSpec.from_json(get_pipeline(conn, run.pipeline_id).spec)
    folder = source_folder(spec)
    if folder is not None:
        git = read_git_info(Path(folder))
        record_git_facts(conn, run_id, git.repository, git.branch, git.commit, git.dirty,
                         git.as_properties())
    if plan_at_submit(local, spec, get_pipeline_run(conn, run_id), run.executor or "local",
                      run.base_image):
        return st.FINISHED
    return None
