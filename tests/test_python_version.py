"""An environment's Python version: used where an image with it is on this machine, else the
step's preparation log says which Python it runs with instead (never silently)."""
from __future__ import annotations

import sys

import pytest

from runner.sdk import Environment, Experiment, Pipeline, PythonScriptStep, RunConfiguration


def _run_with_python(workspace, write, tmp_path, version: str):
    write("steps/v.py", "import sys\nprint('%d.%d' % sys.version_info[:2])\n")
    config = RunConfiguration()
    config.environment = Environment("versioned")
    config.environment.python.conda_dependencies.set_python_version(version)
    step = PythonScriptStep("v.py", name="v", source_directory=str(tmp_path / "steps"),
                            runconfig=config, allow_reuse=False)
    run = Experiment(workspace, "python-version").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    step_run = run.find_step_run("v")[0]
    log = (step_run._record().run_dir / "preparation.txt")
    return step_run.get_stdout_log().strip(), log.read_text() if log.exists() else ""


def test_the_local_executor_says_when_it_runs_another_python(workspace, write, tmp_path):
    running = "%d.%d" % sys.version_info[:2]
    ran, log = _run_with_python(workspace, write, tmp_path, "3.9")
    assert ran == running
    assert (f"local executor: environment versioned asks for Python 3.9; the step runs with "
            f"Python {running} (") in log


def test_the_sdks_default_python_says_nothing(workspace, write, tmp_path):
    _, log = _run_with_python(workspace, write, tmp_path, "3.10.18")
    assert "asks for Python" not in log


@pytest.mark.docker
def test_docker_says_which_python_the_step_gets_when_none_with_that_version_is_here(
        docker_workspace, write, tmp_path):
    from runner.executors.docker_engine import docker_client
    names = {tag for image in docker_client().images.list() for tag in image.tags}
    if "python:3.9-slim" in names:
        pytest.fail("this test needs a machine without python:3.9-slim")
    ran, log = _run_with_python(docker_workspace, write, tmp_path, "3.9")
    assert ("environment versioned asks for Python 3.9, but no image with Python 3.9 is on this "
            f"machine (pull python:3.9-slim, or set environment.docker.base_image): the step runs "
            f"with Python {ran} of ") in log


@pytest.mark.docker
def test_docker_uses_a_local_image_with_the_python_asked_for(docker_workspace, docker_image, write,
                                                               tmp_path):
    """Where `python:X.Y-slim` is on this machine (here: the base image tagged so for the
    test), an environment asking for Python X.Y and naming no image gets it as its base."""
    from runner.executors.docker_engine import docker_client
    client = docker_client()
    running = client.containers.run(docker_image, ["python3", "-c",
                                                   "import sys; print('%d.%d' % sys.version_info[:2])"],
                                    remove=True, network_mode="none").decode().strip()
    tag = f"python:{running}-slim"
    had = tag in {t for image in client.images.list() for t in image.tags}
    if not had:
        client.images.get(docker_image).tag(tag)
    try:
        ran, log = _run_with_python(docker_workspace, write, tmp_path, running)
    finally:
        if not had:
            client.images.remove(tag, noprune=True)
    assert ran == running
    assert f"environment versioned asks for Python {running}: its base image is {tag}\n" in log
    assert "but no image with Python" not in log
