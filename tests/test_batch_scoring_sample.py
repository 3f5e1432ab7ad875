"""The batch-scoring sample (a ParallelRunStep over files) through the real CLI: in local
processes, and unchanged in a Docker container."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, amlocal

EXPECTED_FIRST_ROWS = ["sensor_00.csv 5 2 0.871", "sensor_01.csv 5 2 0.768"]


def _run_sample(tmp_path: Path, *options: str, env: dict) -> str:
    project = tmp_path / "batch_scoring"
    shutil.copytree(REPO / "sample_projects" / "batch_scoring", project)
    done = amlocal("run", *options, str(project / "pipeline.py"), cwd=tmp_path, env=env,
                   timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _rows(tmp_path: Path) -> list[str]:
    (found,) = (tmp_path / ".amlocal" / "datastores").glob("*/dataset/*/scores/parallel_run_step.txt")
    return found.read_text().splitlines()


def test_the_batch_scoring_sample_scores_every_file_with_two_workers(tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    out = _run_sample(tmp_path, env=env)
    assert "[score-sensors] 6 mini-batches of up to 4 files (24 files) for 2 worker process(es) " \
           "on 1 node(s)" in out
    assert "[score-sensors] progress: 6/6 mini-batches done, 0 failed, " in out
    assert "StepRun( score-sensors ) Status: Finished" in out
    rows = _rows(tmp_path)
    assert len(rows) == 24 and rows[:2] == EXPECTED_FIRST_ROWS
    show = amlocal("show", "latest", cwd=tmp_path, env=env).stdout
    assert "score-sensors.Succeeded MiniBatches=6" in show
    assert "score-sensors.Failed Items=0" in show
    (artifacts,) = (tmp_path / ".amlocal" / "runs").glob("*/*/artifacts/logs")
    assert "model loaded from" in (artifacts / "user/entry_script_log/node_0/process000.log.txt"
                                   ).read_text()
    assert (artifacts / "job_error.txt").read_text() == "No mini-batch failed.\n"


@pytest.mark.docker
def test_the_batch_scoring_sample_runs_unchanged_in_docker(tmp_path, docker_image):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal"), "AMLOCAL_BASE_IMAGE": docker_image}
    out = _run_sample(tmp_path, "--executor", "docker", env=env)
    assert "amlocal: steps run in Docker containers (engine" in out
    assert "[score-sensors] progress: 6/6 mini-batches done, 0 failed, " in out
    rows = _rows(tmp_path)
    assert len(rows) == 24 and rows[:2] == EXPECTED_FIRST_ROWS
