"""`amlocal runs` on a store with 10 000 pipeline runs, whole process, vs `python -c pass` in
the same run (target <= 0.2 s). Also checks that the CLI imports neither textual nor docker."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from _common import REPO, fresh_workspace, insert_finished_runs, median

RUNS = 10_000


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    folder = fresh_workspace()
    from store.workspace import open_workspace_at
    local = open_workspace_at(folder / ".amlocal")
    insert_finished_runs(local.conn, RUNS)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = [sys.executable, "-m", "tui.cli", "runs"]
    base = median([timed([sys.executable, "-c", "pass"], env) for _ in range(10)])
    runs = median([timed(cli, env) for _ in range(10)])
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, runpy; sys.argv=['amlocal','runs']; "
         "import tui.cli as c\ntry: c.main(['runs'])\nexcept SystemExit: pass\n"
         "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'docker', 'sqlmodel'}))"],
        env=env, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(f"python -c pass: median {base * 1000:.0f} ms")
    print(f"amlocal runs ({RUNS} runs in the store): median {runs * 1000:.0f} ms  [target <= 200 ms]"
          f"  ratio to bare python {runs / base:.1f}")
    print(f"heavy modules imported by `amlocal runs`: {imported}")


if __name__ == "__main__":
    main()
