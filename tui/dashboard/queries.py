"""What the dashboard shows, read from the store as plain rows.

Each function opens its own connection, because it runs in a worker thread; the screens
only ever receive these immutable rows, in messages.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from store.database import connect
from store.layout import WorkspaceLayout
from store.metrics import decode, latest_metrics, metric_history
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


def human_size(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def commit_text(row: sqlite3.Row) -> str:
    if not row["git_commit"]:
        return "-"
    return f"{row['git_branch'] or '?'}@{row['git_commit'][:8]}{'*' if row['git_dirty'] else ''}"


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
        with self.query() as conn:
            rows = conn.execute(
                "SELECT * FROM (SELECT p.name AS pipeline_name, r.id, r.status, r.created_at, "
                "r.start_time, r.end_time, count(*) OVER (PARTITION BY p.name) AS runs, "
                "row_number() OVER (PARTITION BY p.name ORDER BY r.created_at DESC) AS rn "
                "FROM pipeline_run r JOIN pipeline p ON p.id = r.pipeline_id) WHERE rn <= ? "
                "ORDER BY created_at DESC", (RECENT_RUNS,)).fetchall()
        grouped: dict[str, list[sqlite3.Row]] = {}
        for row in rows:
            grouped.setdefault(row["pipeline_name"], []).append(row)
        result = []
        for name, runs in grouped.items():
            last = runs[0]
            took = [r["end_time"] - r["start_time"] for r in reversed(runs)
                    if r["start_time"] and r["end_time"]]
            result.append(PipelineRow(name, last["status"], when(last["start_time"] or last["created_at"]),
                                      duration(last["start_time"], last["end_time"]), last["runs"],
                                      sparkline(took), last["id"]))
        return result

    def runs(self, pipeline_name: str, limit: int = 500) -> list[RunRow]:
        with self.query() as conn:
            rows = conn.execute(
                "SELECT r.*, e.name AS experiment_name, (SELECT count(*) FROM step_run s WHERE "
                "s.pipeline_run_id = r.id AND s.decision = 'reused') AS reused, (SELECT count(*) "
                "FROM step_run s WHERE s.pipeline_run_id = r.id) AS steps FROM pipeline_run r "
                "JOIN pipeline p ON p.id = r.pipeline_id JOIN experiment e ON e.id = r.experiment_id "
                "WHERE p.name = ? ORDER BY r.created_at DESC LIMIT ?", (pipeline_name, limit)).fetchall()
            metrics: dict[str, list[tuple[str, str]]] = {}
            for m in latest_metrics(conn, [r["id"] for r in rows]):
                metrics.setdefault(m["run_id"], []).append((m["name"], short_value(decode(m), 16)))
        return [RunRow(r["id"], r["status"], when(r["start_time"] or r["created_at"]),
                       duration(r["start_time"], r["end_time"]), commit_text(r),
                       ", ".join(f"{k}={short_value(v, 16)}" for k, v in json.loads(r["parameters_json"]).items()),
                       f"{r['reused']}/{r['steps']}", r["experiment_name"],
                       tuple(sorted(metrics.get(r["id"], [])))) for r in rows]

    def run_detail(self, run_id: str) -> RunDetail:
        from store.runs import get_pipeline_run, get_step_runs
        with self.query() as conn:
            run = get_pipeline_run(conn, run_id)
            steps = get_step_runs(conn, run_id)
        executors = sorted({s["executor"] for s in steps if s["executor"]})
        now = time.time()
        return RunDetail(
            run["id"], run["status"], run["experiment_name"],
            when(run["start_time"] or run["created_at"]), duration(run["start_time"], run["end_time"]),
            commit_text(run),
            ", ".join(f"{k}={short_value(v, 24)}" for k, v in json.loads(run["parameters_json"]).items()) or "-",
            ", ".join(executors) or json.loads(run["properties_json"]).get("amlocal.executor", "-"),
            run["error"] or "",
            tuple(StepRow(s["id"], s["name"], s["status"], duration(s["start_time"], s["end_time"]),
                          s["executor"] or "-", s["error"] or s["reason"] or "", s["run_dir"],
                          phase_breakdown(json.loads(s["phases_json"] or "{}"), s["end_time"] or now))
                  for s in steps))

    def step_metrics(self, step_run_id: str) -> list[tuple[str, str, str, list[float], list]]:
        """(name, kind, latest value, numeric history, every value) of each metric of a step run."""
        with self.query() as conn:
            latest = latest_metrics(conn, [step_run_id])
            result = []
            for m in latest:
                values = [decode(v) for v in metric_history(conn, step_run_id, m["name"])]
                history = [float(v) for v in values
                           if isinstance(v, (int, float)) and not isinstance(v, bool)]
                result.append((m["name"], m["kind"], short_value(decode(m), 30), history, values))
            return result

    def step_row(self, step_run_id: str) -> sqlite3.Row | None:
        """The stored row of a step run (None if there is none)."""
        with self.query() as conn:
            return conn.execute("SELECT * FROM step_run WHERE id = ?", (step_run_id,)).fetchone()

    def step_outputs(self, step_run_id: str) -> list[tuple[str, str, str, str]]:
        """(name, kind, size, where) of each output (datastore path) and artifact of a step run."""
        from store.artifacts import list_artifacts
        from store.runs import get_step_run
        with self.query() as conn:
            step = get_step_run(conn, step_run_id)
            artifacts = list_artifacts(conn, step_run_id)
        rows = []
        for port, out in json.loads(step["outputs_json"]).items():
            folder = Path(out.get("local_path") or "")
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
            rows.append((port, "output", human_size(size), f"{out.get('datastore')}:{out.get('path')}"))
        rows += [(a["name"], "artifact", human_size(a["size"]), a["path"]) for a in artifacts]
        return rows

    def step_details(self, step_run_id: str) -> str:
        """Arguments, environment, outcome and the reuse decision of a step run, as text."""
        from store.runs import get_step_run
        with self.query() as conn:
            s = get_step_run(conn, step_run_id)
        props = json.loads(s["properties_json"])
        lines = [f"step run   {s['id']}", f"status     {s['status']}",
                 f"decision   {s['reason'] or '-'}",
                 f"executor   {s['executor'] or '-'}",
                 f"image      {props.get('amlocal.image', '-')}",
                 f"exit code  {s['exit_code'] if s['exit_code'] is not None else '-'}",
                 f"error      {s['error'] or '-'}",
                 "arguments  " + " ".join(json.loads(s["arguments_json"]))]
        for port, out in json.loads(s["outputs_json"]).items():
            lines.append(f"output     {port}: {out.get('datastore')}:{out.get('path')}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: one row per fact (parameter, final metric), one value per run."""

    run_ids: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]

    def differing(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Only the rows whose values are not all the same."""
        return tuple(r for r in self.rows if len(set(r[1])) > 1)


def compare_runs(store: "Store", run_ids: list[str]) -> Comparison:
    """Parameters and final metrics of `run_ids` (any experiments), side by side."""
    from store.runs import get_pipeline_run, get_step_runs
    with store.query() as conn:
        facts: list[dict[str, str]] = []
        for run_id in run_ids:
            run = get_pipeline_run(conn, run_id)
            steps = get_step_runs(conn, run_id)
            names = {s["id"]: s["name"] for s in steps} | {run_id: "(pipeline)"}
            values = {"experiment": run["experiment_name"], "status": run["status"],
                      "duration": duration(run["start_time"], run["end_time"]),
                      "git": commit_text(run)}
            values |= {f"parameter {k}": short_value(v, 24)
                       for k, v in json.loads(run["parameters_json"]).items()}
            values |= {f"metric {names[m['run_id']]}.{m['name']}": short_value(decode(m), 24)
                       for m in latest_metrics(conn, list(names))}
            facts.append(values)
    keys = list(dict.fromkeys(k for values in facts for k in values))
    return Comparison(tuple(run_ids), tuple((k, tuple(v.get(k, "-") for v in facts)) for k in keys))


def log_path(step: StepRow, stream: str) -> Path:
    return Path(step.run_dir) / f"{stream}.txt"
