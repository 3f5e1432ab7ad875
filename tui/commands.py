"""The read-side commands `runs`, `show`, `metrics`, `why` and `cancel` (`logs` is
`tui.logs_command`, `config` `tui.config_command`).

They read SQLite with the standard library only (no SQLModel, textual or docker import), so
`amlocal runs` answers fast even on a large store.
"""
from __future__ import annotations

import sys
from typing import Sequence

from runner.engine.liveness import reconcile_active_runs
from runner.engine.source_paths import SourcePaths
from store.catalog import find_experiment
from store.errors import NotFoundError
from store.layout import require_workspace
from store.metrics import latest_metrics
from store.records import StepRunRecord
from store.runs import get_pipeline_run, get_step_runs, list_pipeline_runs, resolve_run_id
from store.workspace import OpenWorkspace, open_workspace
from tui.formatting import duration, short_value, shown, table, when
from tui.json_output import metric_fields, print_json, run_fields, show_fields, why_fields


def open_existing() -> OpenWorkspace:
    """The workspace found here (never created), its dead runners noticed first."""
    local = open_workspace(require_workspace())
    reconcile_active_runs(local.conn, local.layout)
    return local


def cmd_runs(limit: int, experiment: str | None, statuses: Sequence[str] = (),
             since: float | None = None, as_json: bool = False) -> int:
    """The latest runs (of an experiment, with a status, since a time): a table or JSON."""
    conn = open_existing().conn
    experiment_id = None
    if experiment:
        found = find_experiment(conn, experiment)
        if found is None:
            raise NotFoundError(f"no experiment named {experiment!r}")
        experiment_id = found.id
    runs = list_pipeline_runs(conn, experiment_id, limit, statuses, since)
    if as_json:
        print_json([run_fields(r) for r in runs])
        return 0
    if not runs:
        filtered = experiment or statuses or since is not None
        print("no runs match" if filtered else "no runs yet: start one with `amlocal run PIPELINE.py`")
        return 0
    out = []
    for r in runs:
        commit = (r.git_commit[:8] + ("*" if r.git_dirty else "")) if r.git_commit else "-"
        out.append([r.id, r.experiment_name, r.status, when(r.start_time or r.created_at),
                    duration(r.start_time, r.end_time), commit])
    print(table(["RUN ID", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "COMMIT"], out))
    return 0


def steps_named(steps: list[StepRunRecord], run_id: str, name: str | None,
                missing_ok: bool = False) -> list[StepRunRecord]:
    """The step runs named (or id-prefixed) `name`, all of them without a name.

    `missing_ok` is for following a run whose step runs are not there yet.
    """
    if name is None or (missing_ok and not steps):
        return steps
    chosen = [s for s in steps if s.name == name or s.id.startswith(name)]
    if not chosen:
        raise NotFoundError(f"run {run_id} has no step {name!r} (steps: "
                            f"{', '.join(s.name for s in steps) or 'none yet'})")
    return chosen


def cmd_show(run_prefix: str, as_json: bool = False) -> int:
    """A run's status, git facts, parameters, steps and scalar metrics (JSON: all metrics)."""
    conn = open_existing().conn
    run = get_pipeline_run(conn, resolve_run_id(conn, run_prefix))
    if as_json:
        steps = get_step_runs(conn, run.id)
        print_json(show_fields(run, steps, latest_metrics(conn, [s.id for s in steps] + [run.id])))
        return 0
    print(f"Run         {run.id}")
    print(f"Experiment  {run.experiment_name}")
    print(f"Status      {run.status}" + (f"  ({run.error})" if run.error else ""))
    print(f"Started     {when(run.start_time or run.created_at)}   "
          f"Duration {duration(run.start_time, run.end_time)}")
    if run.git_commit:
        print(f"Git         {run.git_branch}@{run.git_commit[:12]}"
              f"{' (dirty)' if run.git_dirty else ''}  {run.git_repository}")
    if run.parameters:
        print("Parameters  " + ", ".join(f"{k}={v}" for k, v in run.parameters.items()))
    steps = get_step_runs(conn, run.id)
    print()
    paths = SourcePaths(conn)  # an error naming the working copy names the source instead
    rows = [[s.name, s.status, duration(s.start_time, s.end_time), s.executor or "-", s.id[:8],
             paths.rewriter(s)(s.error) if s.error else s.reason or ""] for s in steps]
    print(table(["STEP", "STATUS", "DURATION", "EXECUTOR", "STEP RUN", "NOTE"], rows))
    metrics = latest_metrics(conn, [s.id for s in steps] + [run.id])
    if metrics:
        names = {s.id: s.name for s in steps} | {run.id: "(pipeline)"}
        print()
        print("Metrics     " + ", ".join(f"{shown(names[m.run_id])}.{shown(m.name)}={short_value(m.value, 16)}"
                                         for m in metrics if m.kind == "scalar"))
    return 0


def cmd_metrics(run_prefix: str, as_json: bool = False) -> int:
    """Every metric of a run and its steps: latest value and how many values."""
    conn = open_existing().conn
    run = get_pipeline_run(conn, resolve_run_id(conn, run_prefix))
    steps = get_step_runs(conn, run.id)
    if as_json:
        step_names = {s.id: s.name for s in steps}
        print_json([metric_fields(m, step_names)
                    for m in latest_metrics(conn, list(step_names) + [run.id])])
        return 0
    names = {s.id: s.name for s in steps} | {run.id: "(pipeline)"}
    rows = [[names[m.run_id], m.name, m.kind, short_value(m.value), str(m.count)]
            for m in latest_metrics(conn, list(names))]
    if not rows:
        print(f"run {run.id} has logged no metrics")
        return 0
    print(table(["STEP", "METRIC", "KIND", "LATEST", "VALUES"], rows))
    return 0


def cmd_cancel(run_prefix: str) -> int:
    from runner.client import Client
    local = open_existing()
    print(Client(local).cancel(resolve_run_id(local.conn, run_prefix)))
    return 0


def cmd_why(run_prefix: str, step_name: str | None, as_json: bool = False) -> int:
    """Per step: reused or run, why, and what differs from the closest earlier run of it."""
    from runner.engine.run_context import RunContext
    from runner.engine.step_facts import StoreHistory
    from runner.spec import PipelineSpec
    from store.catalog import get_pipeline
    local = open_existing()
    conn = local.conn
    run = get_pipeline_run(conn, resolve_run_id(conn, run_prefix))
    spec = PipelineSpec.from_json(get_pipeline(conn, run.pipeline_id).spec)
    history = StoreHistory(conn, RunContext.of(local.layout, run, spec))
    answers = []
    for step in steps_named(get_step_runs(conn, run.id), run.id, step_name):
        earlier, differences = None, []
        if step.decision == "run" and step.fingerprint_fields is not None:
            earlier = history.closest_earlier(step.name, step.id)
            if earlier is not None and earlier.fingerprint_fields is not None:
                differences = history.describe(
                    earlier.fingerprint_fields, step.fingerprint_fields,
                    earlier.fingerprint_about or {}, step.fingerprint_about or {}, detail=True)
            else:
                earlier = None
        answers.append((step, earlier, list(differences)))
    if as_json:
        print_json([why_fields(step, earlier, differences) for step, earlier, differences in answers])
        return 0
    for step, earlier, differences in answers:
        if step.decision is None:
            print(f"{step.name}: no decision yet ({step.status})")
            continue
        print(f"{step.name}: {step.reason}")
        if earlier is not None:
            print(f"  compared with {earlier.label} ({when(earlier.created_at)}):")
            for line in differences:
                print(f"    {line}")
    return 0
