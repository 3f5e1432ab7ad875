"""Fixtures: a temporary workspace per test, and helpers to write step scripts."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AMLOCAL = [sys.executable, "-m", "tui.cli"]


@pytest.fixture(autouse=True)
def _no_user_settings(tmp_path_factory, monkeypatch):
    """Every test (and every `amlocal` it starts) reads an empty user-wide settings folder,
    never the settings of whoever runs the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))


@pytest.fixture(autouse=True)
def _stop_services(tmp_path):
    """After each test, stop the workspace services its publishes started (scripts run with
    `amlocal run` start them detached; they would otherwise live until pytest removes the
    folder)."""
    yield
    from runner.service_control import stop_service
    from store.layout import WorkspaceLayout
    root = tmp_path
    for found in (*root.glob(".amlocal"), *root.glob("*/.amlocal"), *root.glob("*/*/.amlocal")):
        if (found / "private" / "service.json").exists():
            stop_service(WorkspaceLayout(found))


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """An empty amlocal workspace in a temporary folder, used by the SDK in this process."""
    from runner.sdk import local_context
    root = tmp_path / ".amlocal"
    monkeypatch.setenv("AMLOCAL_HOME", str(root))
    monkeypatch.setenv("AMLOCAL_EXECUTOR", "local")  # Docker tests ask for it explicitly
    monkeypatch.chdir(tmp_path)
    local_context.reset_local_workspace()
    from runner.sdk import Workspace
    ws = Workspace.get("test")
    yield ws
    from runner.service_control import stop_service
    from store.layout import WorkspaceLayout
    stop_service(WorkspaceLayout(root))  # a publish started one in the background
    local_context.reset_local_workspace()


@pytest.fixture
def write(tmp_path):
    """write("steps/a.py", code) creates a file under the test folder (dedented)."""
    def _write(rel: str, code: str) -> Path:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
        return path
    return _write


def wait_until(predicate, timeout: float = 60.0, step: float = 0.05) -> None:
    """Poll `predicate()` every `step` s until it holds; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not so within {timeout:g} s"
        time.sleep(step)


def amlocal(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `amlocal` command line in a subprocess."""
    full_env = {**os.environ, "AMLOCAL_EXECUTOR": "local", **(env or {})}
    full_env["PYTHONPATH"] = str(REPO)
    return subprocess.run([*AMLOCAL, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def _docker_or_skip() -> str:
    """The base image Docker tests run steps in; skips (fails when CI=true) without an engine."""
    from runner.executors.docker_engine import engine_answers
    answers, why = engine_answers()
    image = None
    if answers:
        from runner.executors.docker_engine import docker_client
        wanted = [os.environ.get("AMLOCAL_BASE_IMAGE"), "python:3.11-slim",
                  "amlocal/python-base:bookworm"]
        names = {tag for img in docker_client().images.list() for tag in img.tags}
        image = next((w for w in wanted if w and w in names), None)
        if image is None:
            why = "no base image with Python (python:3.11-slim or amlocal/python-base:bookworm)"
    if image is None:
        message = f"{why}; run scripts/ensure-docker.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs Docker: {message}")
        pytest.skip(message)
    return image


@pytest.fixture
def docker_image() -> str:
    """The base image of Docker tests (see `_docker_or_skip`)."""
    return _docker_or_skip()


@pytest.fixture
def docker_workspace(workspace, docker_image, monkeypatch):
    """A workspace whose runs execute in Docker containers of `docker_image`."""
    monkeypatch.setenv("AMLOCAL_EXECUTOR", "docker")
    monkeypatch.setenv("AMLOCAL_BASE_IMAGE", docker_image)
    yield workspace


def python_with_compat(code: str, bare: bool = False) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python whose `azureml` (and `msrest`) is amlocal's compat package,
    as in a script under `amlocal run`; `bare`: no site-packages and no inherited environment,
    as in a step's image where only amlocal's runtime is present."""
    path = f"{REPO / 'runner' / 'compat'}:{REPO}"
    env = {"PYTHONPATH": path} if bare else {**os.environ, "PYTHONPATH": path}
    return subprocess.run([sys.executable, *(["-S"] if bare else []), "-c", code],
                          capture_output=True, text=True, env=env)
