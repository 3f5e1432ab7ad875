"""A fully reused rerun of the 4-step sample pipeline, `amlocal run` end to end, vs `dvc repro`
of the equivalent 4-stage DVC pipeline (same scripts, same data) where nothing changed, both
timed in the same run. Target: median ratio <= 0.5.

DVC is installed in a throwaway virtualenv (cached under ~/.cache/amlocal-bench), never as a
project dependency. amlocal is timed with each executor: local processes (what DVC does) and
Docker (when an engine answers)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, median

REPEATS = 7
DVC_VENV = Path.home() / ".cache" / "amlocal-bench" / "dvc-venv"
AMLOCAL = [str(Path(sys.executable).parent / "amlocal")]
DVC_YAML = """
stages:
  prep:
    cmd: python steps/prep/prep.py --raw data --out out/prepared --test-fraction 0.25
    deps: [steps/prep/prep.py, data]
    outs: [out/prepared]
  train_mean:
    cmd: python steps/train/train.py --data out/prepared --model mean --out out/mean_model
    deps: [steps/train/train.py, out/prepared]
    outs: [out/mean_model]
  train_linear:
    cmd: python steps/train/train.py --data out/prepared --model linear --out out/linear_model
    deps: [steps/train/train.py, out/prepared]
    outs: [out/linear_model]
  compare:
    cmd: python steps/compare/compare.py --models out/mean_model out/linear_model
    deps: [steps/compare/compare.py, out/mean_model, out/linear_model]
"""


def dvc() -> str:
    exe = DVC_VENV / "bin" / "dvc"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DVC_VENV)], check=True)
        print(f"installing dvc in a throwaway venv ({DVC_VENV}) ...", flush=True)
        done = subprocess.run([str(DVC_VENV / "bin" / "pip"), "install", "-q", "dvc"],
                              capture_output=True, text=True)
        if done.returncode != 0:  # pip's own output only when it failed
            raise SystemExit(f"could not install dvc:\n{done.stdout}{done.stderr}")
    return str(exe)


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="amlocal-bench-dvc-"))
    sample = REPO / "sample_projects" / "compare_models"
    # the DVC project: the sample's scripts and data, with the compat package for their imports
    dvc_project = work / "dvc"
    shutil.copytree(sample / "steps", dvc_project / "steps")
    (dvc_project / "data").mkdir(parents=True)
    shutil.copy(sample / "data" / "houses.csv", dvc_project / "data")
    (dvc_project / "dvc.yaml").write_text(DVC_YAML)
    dvc_env = {**os.environ, "PYTHONPATH": str(REPO / "runner" / "compat") + os.pathsep + str(REPO)}
    exe = dvc()
    timed([exe, "init", "--no-scm", "-q"], dvc_project, dvc_env)
    timed([exe, "repro", "-q"], dvc_project, dvc_env)  # runs every stage once
    # the amlocal project
    amlocal_project = work / "amlocal"
    shutil.copytree(sample, amlocal_project / "compare_models")
    executors = ["local"]
    from runner.executors.docker_engine import engine_answers
    if engine_answers()[0]:
        from _common import docker_base_image
        docker_base_image()
        executors.append("docker")
    amlocal_env = {**os.environ, "AMLOCAL_HOME": str(amlocal_project / ".amlocal")}
    script = str(amlocal_project / "compare_models" / "pipeline.py")
    for executor in executors:  # the first run of each executor runs every step
        timed([*AMLOCAL, "run", "--executor", executor, script], amlocal_project, amlocal_env)
    results: dict[str, list[float]] = {e: [] for e in executors}
    dvc_times = []
    for _ in range(REPEATS):
        dvc_times.append(timed([exe, "repro", "-q"], dvc_project, dvc_env))
        for executor in executors:
            results[executor].append(timed([*AMLOCAL, "run", "--executor", executor, script],
                                           amlocal_project, amlocal_env))
    print(f"dvc repro, nothing changed (4 stages): median {median(dvc_times):.3f} s")
    for executor, times in results.items():
        ratios = [t / d for t, d in zip(times, dvc_times)]
        print(f"amlocal run, fully reused, {executor} executor: median {median(times):.3f} s, "
              f"ratio {median(ratios):.2f}  [target <= 0.5]")


if __name__ == "__main__":
    main()
