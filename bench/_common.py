"""Helpers shared by the benchmarks: a throw-away workspace and a median."""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
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
