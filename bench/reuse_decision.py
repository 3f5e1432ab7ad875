"""Deciding reuse for a step whose source directory holds 10 000 small files, nothing changed:
the snapshot (a stat pass over the tree, with remembered hashes) plus the fingerprint and the
store lookup, as the runner does them. Baseline in the same run: sha256 of every file of the
tree. Target: <= 120 ms."""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import time
from pathlib import Path

from _common import fresh_workspace, median

FILES, REPEATS = 10_000, 7


def hash_tree(root: Path) -> str:
    digest = hashlib.sha256()
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            digest.update(name.encode())
            digest.update(Path(folder, name).read_bytes())
    return digest.hexdigest()


def main() -> None:
    os.environ["AMLOCAL_EXECUTOR"] = "local"
    folder = fresh_workspace()
    source = folder / "src"
    for i in range(FILES):
        sub = source / f"pkg{i // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"mod{i:05d}.py").write_text(f"VALUE = {i}\n")
    (source / "step.py").write_text("print('ran')\n")
    from runner.engine.reuse import decide
    from runner.engine.run_context import RunContext
    from runner.engine.step_facts import FactGatherer, SnapshotCache, StoreHistory
    from runner.executors.local import LocalExecutor
    from runner.spec import PipelineSpec
    from store.catalog import get_pipeline
    from store.runs import get_pipeline_run
    from runner.sdk import Experiment, Pipeline, PythonScriptStep, Workspace
    from store.runs import get_step_runs
    ws = Workspace.get("bench")
    step = PythonScriptStep("step.py", name="big", source_directory=str(source))
    with contextlib.redirect_stdout(io.StringIO()):
        for _ in range(2):  # the first runs the step, the second reuses it
            run = Experiment(ws, "bench").submit(Pipeline(ws, [step]))
            run.wait_for_completion(show_output=False)
    conn, layout = ws._local.conn, ws._local.layout
    record = get_step_runs(conn, run.id)[0]
    assert record.decision == "reused", record.reason
    spec = PipelineSpec.from_json(get_pipeline(conn, get_pipeline_run(conn, run.id).pipeline_id).spec)
    step = spec.steps[0]
    # a context for a new run of that pipeline: what a submit plans with
    ctx = RunContext.of(layout, get_pipeline_run(conn, run.id)._replace(id="bench-decision"), spec)
    executor = LocalExecutor()
    decide_times, base_times = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        hash_tree(source)
        base_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        gatherer = FactGatherer(StoreHistory(conn, ctx), executor, SnapshotCache())
        snapshot_id = gatherer.snapshot_id(step)
        environment = gatherer.environment(step, folder / "prep.log")
        facts = gatherer.gather(step, snapshot_id, environment)
        decision = decide(step, facts, ctx.parameters, gatherer.history, step_run_id="bench-step",
                          regenerate=False)
        decide_times.append(time.perf_counter() - t0)
        assert decision.reused is not None, decision.reason
    print(f"{FILES} files: sha256 of the whole tree: median {median(base_times) * 1000:.0f} ms")
    print(f"reuse decision (stat pass + fingerprint + lookup): median {median(decide_times) * 1000:.0f} ms"
          f"  [target <= 120 ms]")
    print(f"ratio (decision / hashing the tree): median {median(decide_times) / median(base_times):.2f}")


if __name__ == "__main__":
    main()
