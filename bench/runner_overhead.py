"""Runner overhead (local executor): a 20-step chain of `pass` scripts vs 20 sequential
`python3 -c pass` measured in the same run. Prints the median ratio (target <= 1.3).

The pipeline time is the run's own start-to-end time as the runner records it (runner
process start-up and the client's submission are reported apart)."""
from __future__ import annotations

import subprocess
import sys
import time

from _common import chain_of_steps, median, run_quietly, run_seconds, workspace_with_script

STEPS, REPEATS = 20, 5


def baseline() -> float:
    start = time.perf_counter()
    for _ in range(STEPS):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def pipeline_once(folder) -> tuple[float, float]:
    from runner.sdk import Workspace
    ws = Workspace.get("bench")
    t0 = time.perf_counter()
    run = run_quietly(ws, "bench", chain_of_steps(folder, "noop.py", STEPS))
    return run_seconds(run), time.perf_counter() - t0


def main() -> None:
    folder = workspace_with_script("noop.py", "pass\n", "local")
    ratios, runs, walls, bases = [], [], [], []
    for _ in range(REPEATS):
        base = baseline()
        run_time, wall = pipeline_once(folder)
        bases.append(base); runs.append(run_time); walls.append(wall); ratios.append(run_time / base)
    print(f"20 x python -c pass: median {median(bases):.3f} s")
    print(f"20-step chain, runner start to end: median {median(runs):.3f} s "
          f"(submit to finished, seen by the client: {median(walls):.3f} s)")
    print(f"ratio (runner / baseline): median {median(ratios):.2f}  [target <= 1.3]")


if __name__ == "__main__":
    main()
