"""Metric ingestion: one step calls run.log 100 000 times. Prints the per-call cost inside the
step and how many points per second the runner ingests into SQLite (target >= 100 000/s)."""
from __future__ import annotations

import contextlib
import io
import json
import statistics
import time

from _common import workspace_with_script

N = 100_000
REPEATS = 5
STEP = f"""
import json, os, time
from azureml.core import Run
run = Run.get_context()
t0 = time.perf_counter()
for i in range({N}):
    run.log("loss", i * 0.5)
elapsed = time.perf_counter() - t0
open(os.path.join(os.environ["AMLOCAL_ARTIFACTS_DIR"], "timing.json"), "w").write(json.dumps(elapsed))
"""


def main() -> None:
    folder = workspace_with_script("log.py", STEP, "local")
    from runner.engine.ingest import EventIngestor
    from runner.sdk import Experiment, Pipeline, PythonScriptStep, Workspace
    ws = Workspace.get("bench")
    step = PythonScriptStep("log.py", source_directory=str(folder / "steps"))
    with contextlib.redirect_stdout(io.StringIO()):
        run = Experiment(ws, "bench").submit(Pipeline(ws, [step]))
        run.wait_for_completion(show_output=False)
    step_run = next(run.get_steps())
    from store.layout import StepRunFiles
    from store.metrics import delete_metrics, latest_metrics
    from store.runs import advance_events_offset, events_offset
    record = step_run._record()
    per_call = json.loads((folder / ".amlocal" / "runs" / run.id / step_run.id / "artifacts" / "timing.json").read_text())
    (latest,) = latest_metrics(ws._local.conn, [step_run.id])
    assert latest.count == N, latest.count
    # Re-ingest the same event file (the step's id, its rows removed first) to time ingestion
    # alone; the median of several passes, as the machine is noisy.
    events = StepRunFiles(record.run_dir).events
    conn = ws._local.conn
    took_each = []
    for _ in range(REPEATS):
        delete_metrics(conn, [step_run.id])
        advance_events_offset(conn, step_run.id, events_offset(conn, step_run.id), 0)
        ingestor = EventIngestor(conn, events, step_run.id, run.id, {})
        t0 = time.perf_counter()
        assert ingestor.poll() == N
        took_each.append(time.perf_counter() - t0)
    took = statistics.median(took_each)
    print(f"in the step: {per_call / N * 1e6:.2f} us per run.log call ({N} calls in {per_call:.3f} s)")
    print(f"ingestion: {N} points in {took:.3f} s (median of {REPEATS}) = {N / took:,.0f} points/s  [target >= 100,000/s]")


if __name__ == "__main__":
    main()
