"""Runner overhead (local executor): a 20-step chain of `pass` scripts vs 20 sequential
`python3 -c pass` measured in the same run. Prints the median ratio (target <= 1.3).

The pipeline time is the run's own start-to-end time as the runner records it (runner
process start-up and the client's submission are reported apart)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from _common import fresh_workspace, median

STEPS, REPEATS = 20, 5


def baseline() -> float:
    start = time.perf_counter()
    for _ in range(STEPS):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def pipeline_once(folder) -> tuple[float, float]:
    from runner.sdk import Experiment, Pipeline, PythonScriptStep, Workspace
    ws = Workspace.get("bench")
    steps = []
    for i in range(STEPS):
        step = PythonScriptStep("noop.py", name=f"s{i}", source_directory=str(folder / "steps"))
        if steps:
            step.run_after(steps[-1])
        steps.append(step)
    t0 = time.perf_counter()
    run = Experiment(ws, "bench").submit(Pipeline(ws, steps))
    run.wait_for_completion(show_output=False)
    wall = time.perf_counter() - t0
    row = run._row()
    assert row["status"] == "Finished", row["error"]
    return row["end_time"] - row["start_time"], wall


def main() -> None:
    os.environ["AMLOCAL_EXECUTOR"] = "local"
    folder = fresh_workspace()
    (folder / "steps").mkdir()
    (folder / "steps" / "noop.py").write_text("pass\n")
    import contextlib, io
    ratios, runs, walls, bases = [], [], [], []
    for _ in range(REPEATS):
        base = baseline()
        with contextlib.redirect_stdout(io.StringIO()):
            run_time, wall = pipeline_once(folder)
        bases.append(base); runs.append(run_time); walls.append(wall); ratios.append(run_time / base)
    print(f"20 x python -c pass: median {median(bases):.3f} s")
    print(f"20-step chain, runner start to end: median {median(runs):.3f} s "
          f"(submit to finished, seen by the client: {median(walls):.3f} s)")
    print(f"ratio (runner / baseline): median {median(ratios):.2f}  [target <= 1.3]")


if __name__ == "__main__":
    main()
