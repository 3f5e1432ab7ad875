"""`--json` for `runs`, `show`, `metrics` and `why`: stable field names, documented in
README.md ("JSON output"), so scripts can rely on them.

Times are UTC, ISO 8601 (`2026-12-03T12:02:47.123456Z`, the SDK's `startTimeUtc` form) or
null; durations are seconds (a float) or null. A field is never renamed or removed; new ones
may be added.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from store.records import LatestMetric, PipelineRunRecord, StepRunRecord


def utc(ts: float | None) -> str | None:
    """`ts` (a Unix time) as ISO 8601 UTC with a `Z`, or None."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds(start: float | None, end: float | None) -> float | None:
    """How long from `start` to `end`, None until both are known."""
    return round(end - start, 3) if start is not None and end is not None else None


def run_fields(run: PipelineRunRecord) -> dict[str, Any]:
    """The fields of a pipeline run in `runs --json` (and the head of `show --json`)."""
    return {"id": run.id, "experiment": run.experiment_name, "pipeline": run.pipeline_name,
            "status": run.status, "error": run.error, "created": utc(run.created_at),
            "started": utc(run.start_time), "ended": utc(run.end_time),
            "duration_seconds": seconds(run.start_time, run.end_time),
            "git_commit": run.git_commit, "git_dirty": run.git_dirty}


def step_fields(step: StepRunRecord) -> dict[str, Any]:
    """The fields of a step run in `show --json`."""
    return {"name": step.name, "step_run_id": step.id, "status": step.status,
            "decision": step.decision, "reason": step.reason,
            "reused_step_run_id": step.reused_step_run_id, "error": step.error,
            "exit_code": step.exit_code, "executor": step.executor,
            "started": utc(step.start_time), "ended": utc(step.end_time),
            "duration_seconds": seconds(step.start_time, step.end_time)}


def metric_fields(metric: LatestMetric, step_names: dict[str, str]) -> dict[str, Any]:
    """The fields of one metric's latest value in `metrics --json` and `show --json`; `step`
    is null for a metric logged on the pipeline run itself."""
    return {"step": step_names.get(metric.run_id), "run_id": metric.run_id, "name": metric.name,
            "kind": metric.kind, "latest": metric.value, "count": metric.count}


def show_fields(run: PipelineRunRecord, steps: list[StepRunRecord],
                metrics: list[LatestMetric]) -> dict[str, Any]:
    """Everything `show --json` prints: the run, its git facts, parameters, steps, metrics."""
    names = {s.id: s.name for s in steps}
    return {**run_fields(run),
            "git": None if not run.git_commit else {
                "commit": run.git_commit, "branch": run.git_branch,
                "repository": run.git_repository, "dirty": run.git_dirty},
            "parameters": dict(run.parameters),
            "steps": [step_fields(s) for s in steps],
            "metrics": [metric_fields(m, names) for m in metrics]}


def print_json(value: Any) -> None:
    """Print `value` as indented JSON (a value JSON cannot hold is written as its text)."""
    json.dump(value, sys.stdout, indent=2, default=str)  # ASCII: nothing drives the terminal
    sys.stdout.write("\n")


def why_fields(step: StepRunRecord, earlier: StepRunRecord | None,
               differences: list[str]) -> dict[str, Any]:
    """One step in `why --json`: its decision and reason, and for a step that ran, the closest
    earlier run of it and what differs (the lines `why` prints), else null and []."""
    return {"step": step.name, "step_run_id": step.id, "status": step.status,
            "decision": step.decision, "reason": step.reason,
            "reused_step_run_id": step.reused_step_run_id,
            "compared_with": None if earlier is None else {
                "step_run_id": earlier.id, "run_id": earlier.pipeline_run_id,
                "created": utc(earlier.created_at)},
            "differences": differences}
