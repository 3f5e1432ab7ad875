"""Watch mode: save → first invalidated step started (its process, or its container), median
of 20 edits, for the local and (when an engine answers) the Docker executor. References in the
same run, one after each edit so that a change of load moves both alike: spawning `python -c
pass` (local) and creating + starting a container of the same image (Docker). Targets: <= 150 ms local, <= 1.15× bare create+start Docker."""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
import time
from typing import Callable

from _common import docker_base_image, fresh_workspace, median

EDITS = 20


def measure(executor: str, reference: Callable[[], float]) -> tuple[list[float], list[float]]:
    """(save → step started, per edit; the reference, measured right after each edit)."""
    os.environ["AMLOCAL_EXECUTOR"] = executor
    folder = fresh_workspace()
    for name in ("prep", "train"):  # each step its own source directory, as users keep them
        (folder / name).mkdir()
        (folder / name / f"{name}.py").write_text(f"print('{name}')\n")
    (folder / "pipeline.py").write_text("# watched; not evaluated unless it changes\n")
    from runner.watch.watcher import PipelineWatcher
    from runner.sdk import Experiment, Pipeline, PythonScriptStep, Workspace
    from store.runs import get_step_runs, list_pipeline_runs
    ws = Workspace.get("bench")
    prep = PythonScriptStep("prep.py", name="prep", source_directory=str(folder / "prep"))
    train = PythonScriptStep("train.py", name="train", source_directory=str(folder / "train"))
    train.run_after(prep)
    with contextlib.redirect_stdout(io.StringIO()):
        first = Experiment(ws, "watch").submit(Pipeline(ws, [train]))
        first.wait_for_completion(show_output=False)
    watcher = PipelineWatcher(ws._local.layout, folder / "pipeline.py", first.id, say=lambda _: None,
                              progress=None)  # the runs' progress lines are not measured
    ready = threading.Event()
    watcher.say = lambda text: ready.set() if text.startswith("watching") else None
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    ready.wait(30)
    conn = ws._local.conn
    latencies: list[float] = []
    references: list[float] = []
    for i in range(EDITS):
        count = len(list_pipeline_runs(conn))
        saved = time.time()
        (folder / "train" / "train.py").write_text(f"print('train {i}')\n")
        deadline = time.monotonic() + 60
        while True:
            runs = list_pipeline_runs(conn)
            if len(runs) > count and runs[0].status in ("Finished", "Failed", "Canceled"):
                break
            if time.monotonic() > deadline:
                raise SystemExit("the edit never ran")
            time.sleep(0.02)
        steps = {s.name: s for s in get_step_runs(conn, runs[0].id)}
        assert steps["prep"].decision == "reused" and steps["train"].decision == "run"
        latencies.append(steps["train"].start_time - saved)
        references.append(reference())  # interleaved: a load change moves both alike
    watcher.stop()
    thread.join(30)
    return latencies, references


def spawn_reference() -> float:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    elapsed = time.perf_counter() - start
    proc.wait()
    return elapsed


def container_start_reference(image: str) -> float:
    from runner.executors.docker_engine import docker_client
    api = docker_client().api
    start = time.perf_counter()
    created = api.create_container(image, ["python3", "-c", "pass"])
    api.start(created["Id"])
    elapsed = time.perf_counter() - start
    api.wait(created["Id"])
    api.remove_container(created["Id"], force=True)
    return elapsed


def main() -> None:
    local, spawns = measure("local", spawn_reference)
    print(f"local: save → step process started: median {median(local) * 1000:.0f} ms over {EDITS} edits "
          f"[target <= 150 ms]; spawning python -c pass: {median(spawns) * 1000:.1f} ms")
    from runner.executors.docker_engine import engine_answers
    if engine_answers()[0]:
        image = docker_base_image()
        in_docker, bare = measure("docker", lambda: container_start_reference(image))
        print(f"docker: save → step container started: median {median(in_docker) * 1000:.0f} ms "
              f"[target <= 1.15× bare create+start]; bare create+start of {image}, one after "
              f"each edit: median {median(bare) * 1000:.0f} ms "
              f"(ratio {median(in_docker) / median(bare):.2f})")


if __name__ == "__main__":
    main()
