"""Helpers shared by the benchmarks: a throw-away workspace and a median."""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def fresh_workspace() -> Path:
    """A new temporary folder with AMLOCAL_HOME pointing into it (returned)."""
    folder = Path(tempfile.mkdtemp(prefix="amlocal-bench-"))
    os.environ["AMLOCAL_HOME"] = str(folder / ".amlocal")
    from runner.sdk import local_context
    local_context.reset_local_workspace()
    return folder


def median(values: list[float]) -> float:
    return statistics.median(values)


def docker_base_image() -> str:
    """The image Docker benchmarks run in: $AMLOCAL_BASE_IMAGE, python:3.11-slim or the local one."""
    from runner.executors.docker_engine import docker_client
    names = {tag for image in docker_client().images.list() for tag in image.tags}
    for wanted in (os.environ.get("AMLOCAL_BASE_IMAGE"), "python:3.11-slim",
                   "amlocal/python-base:bookworm"):
        if wanted and wanted in names:
            os.environ["AMLOCAL_BASE_IMAGE"] = wanted
            return wanted
    raise SystemExit("no base image with Python: run scripts/ensure-docker.sh first")


def docker_run_wait_remove(image: str, command: list[str]) -> float:
    """Seconds for one docker-py run + wait + remove of `command` in `image` (the baseline)."""
    from runner.executors.docker_engine import docker_client
    client = docker_client()
    start = time.perf_counter()
    container = client.containers.run(image, command, detach=True)
    container.wait()
    container.remove()
    return time.perf_counter() - start


def run_seconds(run) -> float:
    """(runner start to end, as the runner recorded it) of a finished pipeline run."""
    record = run._record()
    assert record.status == "Finished", record.error
    return record.end_time - record.start_time


def workspace_with_script(name: str, code: str, executor: str) -> Path:
    """A fresh workspace (see `fresh_workspace`) with `steps/<name>` holding `code`, whose runs
    use `executor`; returns the folder."""
    os.environ["AMLOCAL_EXECUTOR"] = executor
    folder = fresh_workspace()
    (folder / "steps").mkdir()
    (folder / "steps" / name).write_text(code)
    return folder


def chain_of_steps(folder: Path, script: str, count: int, allow_reuse: bool = False) -> list:
    """`count` PythonScriptSteps running `steps/<script>`, each after the previous one (not
    reusable by default: a benchmark repeats the same pipeline and must run it each time)."""
    from runner.sdk import PythonScriptStep
    steps: list = []
    for i in range(count):
        step = PythonScriptStep(script, name=f"s{i}", source_directory=str(folder / "steps"),
                                allow_reuse=allow_reuse)
        if steps:
            step.run_after(steps[-1])
        steps.append(step)
    return steps


def run_quietly(ws, experiment: str, steps: list):
    """Submit `steps` as a pipeline and wait, printing nothing; returns the finished run."""
    import contextlib
    import io
    from runner.sdk import Experiment, Pipeline
    with contextlib.redirect_stdout(io.StringIO()):
        run = Experiment(ws, experiment).submit(Pipeline(ws, steps))
        run.wait_for_completion(show_output=False)
    return run


def insert_finished_runs(conn, count: int, pipelines: int = 1) -> list[str]:
    """`count` finished pipeline runs (newest first, spread over `pipelines` pipelines),
    written straight into the store; returns their ids."""
    import uuid
    from store.catalog import ensure_experiment, ensure_pipeline
    from store.database import transaction
    experiment = ensure_experiment(conn, "bench")
    pipes = [ensure_pipeline(conn, f"pipeline{i:02d}", {"steps": [], "n": i}) for i in range(pipelines)]
    now = time.time()
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with transaction(conn):
        conn.executemany(
            "INSERT INTO pipeline_run (id, experiment_id, pipeline_id, status, created_at, start_time, "
            "end_time, parameters_json, tags_json, properties_json, continue_on_step_failure, "
            "regenerate_outputs, cancel_requested, run_dir) VALUES (?, ?, ?, 'Finished', ?, ?, ?, "
            "'{}', '{}', '{}', 0, 0, 0, '')",
            [(rid, experiment, pipes[i % pipelines], now - i, now - i, now - i + 3 + i % 7)
             for i, rid in enumerate(ids)])
    return ids
