"""What the dashboard shows, read from the store as plain rows.

Each function opens its own connection, because it runs in a worker thread; the screens
only ever receive these immutable rows, in messages.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass
from typing import Iterator

from runner.spec import PipelineSpec, SpecError
from store.artifacts import list_artifacts
from store.catalog import get_pipeline
from store.database import connect
from store.disk_space import human_size
from store.layout import WorkspaceLayout
from store.metrics import latest_metrics, metric_history
from store.records import PipelineRunRecord, StepRunRecord
from store.runs import (find_step_run, get_pipeline_run, get_step_run, get_step_runs,
                        pipeline_summaries, runs_of_pipeline)
from tui.formatting import duration, short_value, when

SPARK = "▁▂▃▄▅▆▇█"
RECENT_RUNS = 20


def sparkline(values: list[float]) -> str:
    """Values as block characters, oldest first (empty for no values)."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARK[int((v - low) / span * (len(SPARK) - 1))] for v in values)


def commit_text(run: PipelineRunRecord) -> str:
    """`branch@commit` of a run, `*` when the tree was dirty ("-" outside git)."""
    if not run.git_commit:
        return "-"
    return f"{run.git_branch or '?'}@{run.git_commit[:8]}{'*' if run.git_dirty else ''}"


PHASES = (("queued", "queue"), ("preparing", "prepare"), ("starting", "start"),
          ("waiting", "wait for a node"), ("running", "run"))


def phase_breakdown(phases: dict[str, float], now: float) -> str:
    """How long each phase of a step run took: "prepare 0.1s · start 0.2s · run 1.0s"."""
    marks = sorted((t, name) for name, t in phases.items())
    parts = []
    for i, (t, name) in enumerate(marks):
        label = dict(PHASES).get(name)
        if label is None:
            continue
        end = marks[i + 1][0] if i + 1 < len(marks) else now
        parts.append(f"{label} {end - t:.1f}s")
    return " · ".join(parts)


@dataclass(frozen=True)
class PipelineRow:
    """One pipeline (by name): its last run and how its recent runs went."""

    name: str
    last_status: str
    last_started: str
    last_duration: str
    runs: int
    trend: str
    latest_run_id: str


@dataclass(frozen=True)
class RunRow:
    """One pipeline run, as the runs table shows it."""

    id: str
    status: str
    started: str
    duration: str
    commit: str
    parameters: str
    reused: str
    experiment: str
    metrics: tuple[tuple[str, str], ...] = ()  # the run's own (pipeline-level) metrics


@dataclass(frozen=True)
class StepRow:
    """One step run of a run."""

    id: str
    name: str
    status: str
    duration: str
    executor: str
    note: str
    run_dir: str
    phases: str


@dataclass(frozen=True)
class RunDetail:
    """A run's header facts and its steps (dependency order)."""

    id: str
    status: str
    experiment: str
    started: str
    duration: str
    commit: str
    parameters: str
    executor: str
    error: str
    steps: tuple[StepRow, ...]
    # the step runs each step run waits for (the spec's graph), by step run id
    upstream: tuple[tuple[str, tuple[str, ...]], ...] = ()


def step_upstream(spec: dict, step_of_node: dict[str, str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """For each step run, the step runs it waits for, from the pipeline spec's graph (plain JSON
    data); nodes without a step run are left out, and an unreadable spec gives no edges."""
    try:
        graph = PipelineSpec.from_json(spec).graph()
    except SpecError:
        return ()
    return tuple((step_of_node[node], tuple(step_of_node[u] for u in sorted(ups) if u in step_of_node))
                 for node, ups in graph.dependencies.items() if node in step_of_node)


class Store:
    """Opens the workspace database for one query at a time (one per worker thread)."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout

    @contextlib.contextmanager
    def query(self) -> Iterator[sqlite3.Connection]:
        """A connection for one query in this thread, closed afterwards."""
        conn = connect(self.layout.db_path)
        try:
            yield conn
        finally:
            conn.close()

    def pipelines(self) -> list[PipelineRow]:
        """Every pipeline with its latest run, newest first."""
        with self.query() as conn:
            summaries = pipeline_summaries(conn, RECENT_RUNS)
        return [PipelineRow(p.name, p.latest.status, when(p.latest.start_time or p.latest.created_at),
                            duration(p.latest.start_time, p.latest.end_time), p.runs,
                            sparkline(list(p.recent_durations)), p.latest.id)
                for p in summaries]

    def runs(self, pipeline_name: str, limit: int = 500) -> list[RunRow]:
        """The runs of one pipeline, newest first, with their own (pipeline-level) metrics."""
        with self.query() as conn:
            listings = runs_of_pipeline(conn, pipeline_name, limit)
            metrics: dict[str, list[tuple[str, str]]] = {}
            for m in latest_metrics(conn, [item.run.id for item in listings]):
                metrics.setdefault(m.run_id, []).append((m.name, short_value(m.value, 16)))
        return [RunRow(r.id, r.status, when(r.start_time or r.created_at),
                       duration(r.start_time, r.end_time), commit_text(r),
                       ", ".join(f"{k}={short_value(v, 16)}" for k, v in r.parameters.items()),
                       f"{item.reused}/{item.steps}", r.experiment_name,
                       tuple(sorted(metrics.get(r.id, []))))
                for item in listings for r in (item.run,)]

    def run_detail(self, run_id: str) -> RunDetail:
        """A run's header facts and its steps."""
        with self.query() as conn:
            run = get_pipeline_run(conn, run_id)
            steps = get_step_runs(conn, run_id)
            spec = get_pipeline(conn, run.pipeline_id).spec
        executors = sorted({s.executor for s in steps if s.executor})
        now = time.time()
        return RunDetail(
            run.id, run.status, run.experiment_name, when(run.start_time or run.created_at),
            duration(run.start_time, run.end_time), commit_text(run),
            ", ".join(f"{k}={short_value(v, 24)}" for k, v in run.parameters.items()) or "-",
            ", ".join(executors) or run.executor or "-", run.error or "",
            tuple(StepRow(s.id, s.name, s.status, duration(s.start_time, s.end_time),
                          s.executor or "-", s.error or s.reason or "", str(s.run_dir),
                          phase_breakdown(dict(s.phases), s.end_time or now))
                  for s in steps),
            step_upstream(spec, {s.node_id: s.id for s in steps}))

    def step_metrics(self, step_run_id: str) -> list[tuple[str, str, str, list[float], list]]:
        """(name, kind, latest value, numeric history, every value) of each metric of a step run."""
        with self.query() as conn:
            latest = latest_metrics(conn, [step_run_id])
            history = metric_history(conn, step_run_id)
        values: dict[str, list] = {}
        for v in history:
            values.setdefault(v.name, []).append(v.value)
        result = []
        for m in latest:
            every = values.get(m.name, [])
            numbers = [float(v) for v in every if isinstance(v, (int, float)) and not isinstance(v, bool)]
            result.append((m.name, m.kind, short_value(m.value, 30), numbers, every))
        return result

    def step_record(self, step_run_id: str) -> StepRunRecord | None:
        """The step run `step_run_id` (None if there is none)."""
        with self.query() as conn:
            return find_step_run(conn, step_run_id)

    def log_source(self, step_run_id: str) -> tuple[str | None, str | None]:
        """(run folder whose logs to show, a note before them) for a step run: a reused step's
        are the step run's it reused, with a note saying so."""
        from tui.logs_command import original_of, reused_note
        with self.query() as conn:
            step = find_step_run(conn, step_run_id)
            if step is None:
                return None, None
            original = original_of(conn, step)
        if original.id == step.id:
            return str(step.run_dir), None
        return str(original.run_dir), reused_note(original)

    def step_outputs(self, step_run_id: str) -> list[tuple[str, str, str, str]]:
        """(name, kind, size, where) of each output (datastore path) and artifact of a step run."""
        with self.query() as conn:
            step = get_step_run(conn, step_run_id)
            artifacts = list_artifacts(conn, step_run_id)
        rows = []
        for port, out in step.outputs.items():
            folder = out.local_path
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
            rows.append((port, "output", human_size(size), f"{out.datastore}:{out.path}"))
        rows += [(a.name, "artifact", human_size(a.size), str(a.path)) for a in artifacts]
        return rows

    def step_details(self, step_run_id: str) -> str:
        """Arguments, environment, outcome and the reuse decision of a step run, as text."""
        with self.query() as conn:
            s = get_step_run(conn, step_run_id)
        lines = [f"step run   {s.id}", f"status     {s.status}",
                 f"decision   {s.reason or '-'}",
                 f"executor   {s.executor or '-'}",
                 f"image      {s.properties.get('amlocal.image', '-')}",
                 f"exit code  {s.exit_code if s.exit_code is not None else '-'}",
                 f"error      {s.error or '-'}",
                 "arguments  " + " ".join(s.arguments)]
        for port, out in s.outputs.items():
            lines.append(f"output     {port}: {out.datastore}:{out.path}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: one row per fact (parameter, final metric), one value per run."""

    run_ids: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    # per metric ("train.loss") with more than one numeric value in some run: each run's values
    series: tuple[tuple[str, tuple[tuple[str, tuple[float, ...]], ...]], ...] = ()

    def differing(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Only the rows whose values are not all the same."""
        return tuple(r for r in self.rows if len(set(r[1])) > 1)


def _numbers(values: list) -> tuple[float, ...]:
    return tuple(float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))


def compare_runs(store: "Store", run_ids: list[str]) -> Comparison:
    """Parameters and final metrics of `run_ids` (any experiments), side by side, and the
    series of each metric in each run (to overlay them)."""
    series: dict[str, dict[str, tuple[float, ...]]] = {}
    with store.query() as conn:
        facts: list[dict[str, str]] = []
        for run_id in run_ids:
            run = get_pipeline_run(conn, run_id)
            steps = get_step_runs(conn, run_id)
            names = {s.id: s.name for s in steps} | {run_id: "(pipeline)"}
            values = {"experiment": run.experiment_name, "status": run.status,
                      "duration": duration(run.start_time, run.end_time), "git": commit_text(run)}
            values |= {f"parameter {k}": short_value(v, 24) for k, v in run.parameters.items()}
            values |= {f"metric {names[m.run_id]}.{m.name}": short_value(m.value, 24)
                       for m in latest_metrics(conn, list(names))}
            facts.append(values)
            for owner, name in names.items():
                every: dict[str, list] = {}
                for v in metric_history(conn, owner):
                    every.setdefault(v.name, []).append(v.value)
                for metric, history in every.items():
                    series.setdefault(f"{name}.{metric}", {})[run_id] = _numbers(history)
    keys = list(dict.fromkeys(k for values in facts for k in values))
    plotted = tuple((metric, tuple((r, runs[r]) for r in run_ids if r in runs))
                    for metric, runs in sorted(series.items())
                    if any(len(values) > 1 for values in runs.values()))
    return Comparison(tuple(run_ids), tuple((k, tuple(v.get(k, "-") for v in facts)) for k in keys),
                      plotted)

