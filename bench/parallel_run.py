"""ParallelRunStep throughput and overhead, measured against baselines in the same run.

200 small files, mini_batch_size 5, an entry script whose run() spends about 20 ms of CPU per
file. Each job is the ParallelRunStep driver (runner.step_runtime.parallel_driver, as a step
runs it) in a fresh process:

* throughput: 2 worker processes vs 1 (target >= 1.7x on a 2-core machine);
* overhead: 1 worker vs a plain Python loop over the same files in one process, also started
  fresh (target <= 1.2x).

    .venv/bin/python bench/parallel_run.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, median  # noqa: E402

SCRIPT = '''
import time

def init():
    pass

def _work(seconds):
    end = time.process_time() + seconds
    total = 0
    while time.process_time() < end:
        total += 1
    return total

def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path) as fh:
            value = int(fh.read())
        _work(0.02)
        rows.append([path.rsplit("/", 1)[-1], value * 2])
    return rows
'''

PLAIN_LOOP = '''
import os, sys
sys.path.insert(0, os.getcwd())
import score
score.init()
root = os.environ["numbers"]
files = sorted(os.path.join(root, n) for n in os.listdir(root))
rows = []
for start in range(0, len(files), 5):
    rows += score.run(files[start:start + 5])
with open(os.path.join(sys.argv[1], "loop.txt"), "w") as out:
    out.write("".join(" ".join(str(v) for v in row) + "\\n" for row in rows))
'''


def _environment(data: Path) -> dict[str, str]:
    return {**os.environ, "numbers": str(data), "AMLOCAL_PARALLEL_NODE_COUNT": "1",
            "PYTHONPATH": f"{REPO / 'runner' / 'compat'}{os.pathsep}{REPO}"}


def _driver(work: Path, data: Path, out: Path, workers: int) -> float:
    args = [sys.executable, "-m", "runner.step_runtime.parallel_driver",
            "--scoring_module_name", "score.py", "--mini_batch_size", "5",
            "--error_threshold", "0", "--output_action", "append_row",
            "--run_invocation_timeout", "60", "--run_max_try", "1", "--output", str(out),
            "--process_count_per_node", str(workers), "--input_fds_0", "numbers"]
    start = time.perf_counter()
    subprocess.run(args, cwd=work, env=_environment(data), check=True, capture_output=True)
    seconds = time.perf_counter() - start
    rows = (out / "parallel_run_step.txt").read_text().splitlines()
    assert len(rows) == 200, len(rows)
    return seconds


def _loop(work: Path, data: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN_LOOP, str(out)], cwd=work,
                   env=_environment(data), check=True, capture_output=True)
    seconds = time.perf_counter() - start
    assert len((out / "loop.txt").read_text().splitlines()) == 200
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="amlocal-bench-prs-"))
    data, work, out = folder / "data", folder / "work", folder / "out"
    for path in (data, work, out):
        path.mkdir()
    for i in range(200):
        (data / f"f{i:03d}.txt").write_text(str(i))
    (work / "score.py").write_text(SCRIPT)
    one, two, loop = [], [], []
    for _ in range(options.repeat):  # interleaved, so load on the machine hits all alike
        loop.append(_loop(work, data, out))
        one.append(_driver(work, data, out, 1))
        two.append(_driver(work, data, out, 2))
    t_loop, t_one, t_two = median(loop), median(one), median(two)
    print(f"cores (os.cpu_count): {os.cpu_count()}; 200 files, mini_batch_size 5, ~20 ms CPU "
          f"per file; median of {options.repeat}")
    print(f"plain loop: {t_loop:.2f} s   1 worker: {t_one:.2f} s   2 workers: {t_two:.2f} s")
    print(f"throughput, 2 workers vs 1: {t_one / t_two:.2f}x (target >= 1.7x)")
    print(f"overhead, 1 worker vs plain loop: {t_one / t_loop:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
