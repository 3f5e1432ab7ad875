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
    row = run._row()
    assert row["status"] == "Finished", row["error"]
    return row["end_time"] - row["start_time"]
