"""Evaluating a pipeline script again, in a fresh process, and knowing whether it changed.

The watcher (a save of the script) and the dashboard (`r` on a run whose script changed since
its submit) both run `python -m runner.pipeline_script SCRIPT --record FILE`: never in their
own process, so a script's imports, globals and crashes stay out of it. A submit records the
script's sha256 next to the run (`SCRIPT_HASH_FILE` in the run's folder) to tell later whether
the script is still what made the run; no store column is needed for that.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from runner.paths import PACKAGE_PARENT

SCRIPT_HASH_FILE = "script.sha256"


@dataclass(frozen=True)
class Evaluation:
    """What evaluating a script did: its exit status, the runs it submitted (ids, in order),
    and the last line it wrote to stderr (its error, when it failed)."""

    returncode: int
    submitted: tuple[str, ...]
    last_error: str


def script_sha256(script: Path) -> str | None:
    """The sha256 of the script's content now (None when it cannot be read)."""
    try:
        return hashlib.sha256(script.read_bytes()).hexdigest()
    except OSError:
        return None


def record_script_hash(run_dir: Path, script: Path | None) -> None:
    """Remember, in the run's folder, what the script that submitted the run held then."""
    if script is not None and (digest := script_sha256(script)) is not None:
        (run_dir / SCRIPT_HASH_FILE).write_text(digest + "\n")


def script_changed(run_dir: Path, script: Path | None) -> bool:
    """True when the run's script exists and differs from what it was at submit; False when
    the run has no script, the script is gone, or the submit recorded no hash (older runs)."""
    if script is None:
        return False
    try:
        then = (run_dir / SCRIPT_HASH_FILE).read_text().strip()
    except OSError:
        return False
    now = script_sha256(script)
    return now is not None and now != then


def evaluate_script(home: Path, script: Path, executor: str | None = None,
                    script_args: Sequence[str] = ()) -> Evaluation:
    """Run `script` in a fresh Python process against the workspace at `home` (its
    AMLOCAL_HOME), in the script's folder; which runs it submitted, and how it ended."""
    env = {**os.environ, "AMLOCAL_HOME": str(home),
           "PYTHONPATH": os.pathsep.join(p for p in (str(PACKAGE_PARENT),
                                                     os.environ.get("PYTHONPATH")) if p)}
    with tempfile.TemporaryDirectory(prefix="amlocal-eval-") as scratch:
        record = Path(scratch) / "submitted"
        choice = ["--executor", executor] if executor else []
        done = subprocess.run([sys.executable, "-m", "runner.pipeline_script", str(script),
                               "--record", str(record), *choice, "--", *script_args],
                              env=env, capture_output=True, text=True, cwd=script.parent)
        submitted = tuple(record.read_text().split()) if record.exists() else ()
    error = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    return Evaluation(done.returncode, submitted, error)
