"""Fan-out in Docker: 8 independent steps that each sleep 1 s on a compute target with
max_nodes=4, vs the ideal of 2 s plus two container starts (a container start is a docker-py
run + wait + remove of `python3 -c pass`, measured in the same run). Prints the median ratio
(target <= 1.2)."""
from __future__ import annotations

from _common import (docker_base_image, docker_run_wait_remove, median, run_quietly, run_seconds,
                     workspace_with_script)

WIDTH, NODES, SLEEP, REPEATS = 8, 4, 1.0, 3


def pipeline_once(folder) -> float:
    from runner.sdk import AmlCompute, ComputeTarget, PythonScriptStep, Workspace
    ws = Workspace.get("bench")
    ComputeTarget.create(ws, "four", AmlCompute.provisioning_configuration(max_nodes=NODES))
    steps = [PythonScriptStep("sleep.py", name=f"s{i}", source_directory=str(folder / "steps"),
                              compute_target="four", allow_reuse=False) for i in range(WIDTH)]
    return run_seconds(run_quietly(ws, "fanout", steps))


def main() -> None:
    image = docker_base_image()
    folder = workspace_with_script("sleep.py", f"import time\ntime.sleep({SLEEP})\n", "docker")
    pipeline_once(folder)  # warm-up
    ideals, runs, ratios = [], [], []
    for _ in range(REPEATS):
        start = median([docker_run_wait_remove(image, ["python3", "-c", "pass"]) for _ in range(3)])
        ideal = (WIDTH // NODES) * (SLEEP + start)
        run = pipeline_once(folder)
        ideals.append(ideal); runs.append(run); ratios.append(run / ideal)
    print(f"image {image}; container start (run+wait+remove of pass) ~{start * 1000:.0f} ms")
    print(f"ideal: {WIDTH // NODES} waves x ({SLEEP:g} s + one container start) = median {median(ideals):.3f} s")
    print(f"{WIDTH} x sleep {SLEEP:g} s on max_nodes={NODES}, runner start to end: median {median(runs):.3f} s")
    print(f"ratio (amlocal / ideal): median {median(ratios):.2f}  [target <= 1.2]")


if __name__ == "__main__":
    main()
