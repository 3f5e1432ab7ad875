"""Fixtures: a temporary workspace per test, and helpers to write step scripts."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AMLOCAL = [sys.executable, "-m", "tui.cli"]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """An empty amlocal workspace in a temporary folder, used by the SDK in this process."""
    from runner.sdk import local_context
    from runner.sdk.experiment import _submitted_runs
    root = tmp_path / ".amlocal"
    monkeypatch.setenv("AMLOCAL_HOME", str(root))
    monkeypatch.chdir(tmp_path)
    local_context.reset_local_workspace()
    _submitted_runs.clear()
    from runner.sdk import Workspace
    ws = Workspace.get("test")
    yield ws
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


def amlocal(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `amlocal` command line in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(REPO)
    return subprocess.run([*AMLOCAL, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
