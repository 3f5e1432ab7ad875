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
    from runner.engine.reuse import ReusePlanner
    from runner.engine.step_launch import RunFacts
    from runner.executors.local import LocalExecutor
    from runner.sdk import Experiment, Pipeline, PythonScriptStep, Workspace
    from store.runs import get_step_runs
    from store.snapshots import SnapshotStore
    ws = Workspace.get("bench")
    step = PythonScriptStep("step.py", name="big", source_directory=str(source))
    with contextlib.redirect_stdout(io.StringIO()):
        for _ in range(2):  # the first runs the step, the second reuses it
            run = Experiment(ws, "bench").submit(Pipeline(ws, [step]))
            run.wait_for_completion(show_output=False)
    conn, layout = ws._local.conn, ws._local.layout
    row = get_step_runs(conn, run.id)[0]
    assert row["decision"] == "reused", row["reason"]
    from store.catalog import get_pipeline_spec
    from store.runs import get_pipeline_run
    spec = get_pipeline_spec(conn, get_pipeline_run(conn, run.id)["pipeline_id"])["steps"][0]
    facts = RunFacts(layout, "bench-decision", "bench", {}, {})
    executor = LocalExecutor()
    decide_times, base_times = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        hash_tree(source)
        base_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        snapshot = SnapshotStore(layout.snapshots_dir, conn).take(source, (layout.root,))
        environment = executor.resolve_environment((spec.get("runconfig") or {}).get("environment"),
                                                   folder / "prep.log")
        decision = ReusePlanner(conn, facts).decide(spec, "bench-step", snapshot.id,
                                                     environment.identity, True, False)
        decide_times.append(time.perf_counter() - t0)
        assert decision.reused is not None, decision.reason
    print(f"{FILES} files: sha256 of the whole tree: median {median(base_times) * 1000:.0f} ms")
    print(f"reuse decision (stat pass + fingerprint + lookup): median {median(decide_times) * 1000:.0f} ms"
          f"  [target <= 120 ms]")
    print(f"ratio (decision / hashing the tree): median {median(decide_times) / median(base_times):.2f}")


if __name__ == "__main__":
    main()
