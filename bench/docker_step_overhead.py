"""Per-step overhead of the Docker executor: a 10-step chain of `pass` steps in containers vs
10 sequential docker-py run + wait + remove of the same image, measured in the same run.
Prints the median ratio (target <= 1.15).

The pipeline time is the run's start-to-end time as the runner records it (the runner's own
start-up and the client's submission are not step overhead)."""
from __future__ import annotations

from _common import (chain_of_steps, docker_base_image, docker_run_wait_remove, median, run_quietly,
                     run_seconds, workspace_with_script)

STEPS, REPEATS = 10, 5


def pipeline_once(folder) -> float:
    from runner.sdk import Workspace
    ws = Workspace.get("bench")
    return run_seconds(run_quietly(ws, "bench", chain_of_steps(folder, "noop.py", STEPS)))


def main() -> None:
    image = docker_base_image()
    folder = workspace_with_script("noop.py", "pass\n", "docker")
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
