"""`amlocal runs` is the command users type most: it must not pay for what other commands
need. Building the parser (every subcommand's options) imports no engine, client or
dashboard module, and no heavy library; those load only for the command that runs."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

NOT_ON_THE_RUNS_PATH = ("textual", "docker", "sqlmodel", "runner.client", "runner.engine.debug_session",
                        "runner.engine.workspace_gc", "runner.engine.run_plan", "runner.sdk",
                        "tui.dashboard", "pandas", "fastapi", "uvicorn")


def test_amlocal_runs_imports_only_what_it_needs(tmp_path):
    code = ("import sys\nfrom tui.cli import main\nmain(['runs'])\n"
            f"bad = sorted(m for m in sys.modules if m in {NOT_ON_THE_RUNS_PATH!r} "
            "or m.split('.')[0] in ('textual', 'docker', 'sqlmodel', 'pandas', 'fastapi', 'uvicorn'))\n"
            "print('IMPORTED', bad)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
                               "AMLOCAL_HOME": str(tmp_path / ".amlocal")}, timeout=60)
    assert done.stdout.splitlines()[-1] == "IMPORTED []", done.stdout + done.stderr
