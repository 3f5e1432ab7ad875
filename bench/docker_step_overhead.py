"""Per-step overhead of the Docker executor: a 10-step chain of `pass` steps in containers vs
10 sequential docker-py run + wait + remove of the same image, measured in the same run.
Prints the median ratio (target <= 1.15).

The pipeline time is the run's start-to-end time as the runner records it (the runner's own
start-up and the client's submission are not step overhead)."""
from __future__ import annotations

import contextlib
import io
import os
import time

from _common import docker_base_image, docker_run_wait_remove, fresh_workspace, median, run_seconds

STEPS, REPEATS = 10, 5


def pipeline_once(folder) -> float:
    from runner.sdk import Experiment, Pipeline, PythonScriptStep, Workspace
    ws = Workspace.get("bench")
    steps = []
    for i in range(STEPS):
        step = PythonScriptStep("noop.py", name=f"s{i}", source_directory=str(folder / "steps"))
        if steps:
            step.run_after(steps[-1])
        steps.append(step)
    with contextlib.redirect_stdout(io.StringIO()):
        run = Experiment(ws, "bench").submit(Pipeline(ws, steps))
        run.wait_for_completion(show_output=False)
    return run_seconds(run)


def main() -> None:
    os.environ["AMLOCAL_EXECUTOR"] = "docker"
    image = docker_base_image()
    folder = fresh_workspace()
    (folder / "steps").mkdir()
    (folder / "steps" / "noop.py").write_text("pass\n")
    pipeline_once(folder)  # warm-up: the base image's first use
    bases, runs, ratios = [], [], []
    for _ in range(REPEATS):
        base = sum(docker_run_wait_remove(image, ["python3", "-c", "pass"]) for _ in range(STEPS))
        run = pipeline_once(folder)
        bases.append(base); runs.append(run); ratios.append(run / base)
    print(f"image {image}")
    print(f"{STEPS} x docker-py run+wait+remove of python3 -c pass: median {median(bases):.3f} s "
          f"({median(bases) / STEPS * 1000:.0f} ms each)")
    print(f"{STEPS}-step chain in Docker, runner start to end: median {median(runs):.3f} s "
          f"({median(runs) / STEPS * 1000:.0f} ms per step)")
    print(f"ratio (amlocal / docker-py baseline): median {median(ratios):.2f}  [target <= 1.15]")


if __name__ == "__main__":
    main()
