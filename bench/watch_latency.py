"""Watch mode: save → the invalidated step started (its process, or its script let run in its
container), median of 20 edits, for the local and (when an engine answers) the Docker
executor. References in the same run, one after each edit so that a change of load moves
both alike: spawning `python -c pass` (local) and creating + starting a container of the same
image (Docker), each measured once the watcher has nothing starting (its head start for the
next save is made). Docker is measured four ways: saving the same step again, or the one
before, back and forth (the inner loop: the watcher has those steps' containers up, held,
before the save; see `runner.watch.head_starts`); saving each of three steps in turn (the
third step's container is only created before the save, and started as the burst begins);
and the same with nothing made before the save (its container is made and started while the
burst settles), as for a pipeline of more steps than the watcher makes ahead.
Targets: <= 150 ms local, <= 1.15× bare create+start Docker."""
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
STEPS = ("prep", "train", "score")  # run one after the other; a step's edit reruns it alone


def measure(executor: str, reference: Callable[[], float], edited: Callable[[int], str]
            ) -> tuple[list[float], list[float]]:
    """(save → step started, per edit; the reference, measured right after each edit). Edit i
    saves the script of step `edited(i)` (one of STEPS)."""
    os.environ["AMLOCAL_EXECUTOR"] = executor
    folder = fresh_workspace()
    for name in STEPS:  # each step its own source directory, as users keep them
        (folder / name).mkdir()
        (folder / name / f"{name}.py").write_text(f"print('{name}')\n")
    (folder / "pipeline.py").write_text("# watched; not evaluated unless it changes\n")
    from runner.watch.watcher import PipelineWatcher
    from runner.sdk import Experiment, Pipeline, PythonScriptStep, Workspace
    from store.runs import get_step_runs, list_pipeline_runs
    ws = Workspace.get("bench")
    steps = [PythonScriptStep(f"{name}.py", name=name, source_directory=str(folder / name))
             for name in STEPS]
    for before, after in zip(steps, steps[1:]):
        after.run_after(before)
    with contextlib.redirect_stdout(io.StringIO()):
        first = Experiment(ws, "watch").submit(Pipeline(ws, [steps[-1]]))
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
        name = edited(i)
        saved = time.time()
        (folder / name / f"{name}.py").write_text(f"print('{name} {i}')\n")
        deadline = time.monotonic() + 60
        while True:
            runs = list_pipeline_runs(conn)
            if len(runs) > count and runs[0].status in ("Finished", "Failed", "Canceled"):
                break
            if time.monotonic() > deadline:
                raise SystemExit("the edit never ran")
            time.sleep(0.02)
        steps = {s.name: s for s in get_step_runs(conn, runs[0].id)}
        assert runs[0].status == "Finished"
        assert {s: steps[s].decision for s in STEPS} == {s: "run" if s == name else "reused"
                                                          for s in STEPS}
        latencies.append(steps[name].start_time - saved)
        if not watcher.wait_idle(30):  # the next save's head starts made: nothing else starts
            raise SystemExit("the watcher never settled after a run")
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
    local, spawns = measure("local", spawn_reference, lambda i: "train")
    print(f"local: save → step process started: median {median(local) * 1000:.0f} ms over {EDITS} edits "
          f"[target <= 150 ms]; spawning python -c pass: {median(spawns) * 1000:.1f} ms")
    from runner.executors.docker_engine import engine_answers
    if not engine_answers()[0]:
        return
    image = docker_base_image()
    from runner.watch import head_starts
    for what, edited, ahead in (
            ("the same step again", lambda i: "train", None),
            ("the step before the last save's", lambda i: STEPS[i % 2], None),
            ("a step neither of the last two saves reran", lambda i: STEPS[i % 3], None),
            ("each step in turn, nothing made before the save", lambda i: STEPS[i % 3], (0, 0))):
        if ahead is not None:  # as for a pipeline of more steps than the watcher makes ahead
            head_starts.RECENT, head_starts.CREATED_AHEAD = ahead
        in_docker, bare = measure("docker", lambda: container_start_reference(image), edited)
        print(f"docker, saving {what}: save → step started in its container: median "
              f"{median(in_docker) * 1000:.0f} ms [target <= 1.15× bare create+start]; bare "
              f"create+start of {image}, one after each edit: median {median(bare) * 1000:.0f} ms "
              f"(ratio {median(in_docker) / median(bare):.2f})")


if __name__ == "__main__":
    main()
