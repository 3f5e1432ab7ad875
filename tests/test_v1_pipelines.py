"""The v1 pipelines under sample_projects/, written as Microsoft's public pipeline notebooks
write them, run unmodified with `amlocal run` (their data is generated, nothing downloaded)."""
from __future__ import annotations

import shutil

import pytest

from tests.conftest import REPO, amlocal


def _run(tmp_path, project: str, env: dict | None = None):
    shutil.copytree(REPO / "sample_projects" / project, tmp_path / project)
    full_env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal"), **(env or {})}
    done = amlocal("run", str(tmp_path / project / "pipeline.py"), cwd=tmp_path, env=full_env,
                   timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done, full_env


def test_getting_started_runs_publishes_and_reruns_with_a_parameter(tmp_path):
    done, env = _run(tmp_path, "v1_getting_started")
    out = done.stdout.splitlines()
    assert out[0] == "SDK version: 1.61.0"
    assert "Creating a new compute target..." in out
    status = next(line for line in out if line.startswith("{'currentNodeCount'"))
    assert "'provisioningState': 'Succeeded'" in status and "'maxNodeCount': 2" in status
    assert "Pipeline validation complete" in out
    details = out.index("Pipeline is submitted for execution") + 1
    assert out[details].startswith("azureml.PipelineRun ")  # RunDetails(run).show() in a script
    assert [line.split()[0] for line in out[details + 1:details + 4]] == ["prep", "train", "evaluate"]
    assert out[details + 4].startswith("amlocal show ")
    assert "metrics: {'rmse': 1.778, 'slope': 2.996}" in out
    assert any(line.startswith("model saved at workspaceblobstore:azureml/") and line.endswith("/model")
               for line in out)
    assert "second run: Finished {'rmse': 1.967, 'slope': 3.015}" in out
    logs = amlocal("logs", "latest", "prep", cwd=tmp_path, env=env)
    assert logs.stdout == "prep: 3 files, 120 rows, 60 for training\n"  # the glob left README.txt out


def test_modules_command_step_and_draft_run_unmodified(tmp_path):
    done, _ = _run(tmp_path, "v1_modules_and_drafts")
    out = done.stdout.splitlines()
    assert out[:3] == ["Azure ML SDK version: 1.61.0", "module versions: ['1']",
                       "drafts: [('numbers_draft', 'scale, summarize, report')]"]
    assert "run from draft: Finished parameters {'top_n': 5}" in out
    assert "draft's last run is this one: True" in out
    assert "report: 20 numbers, total 630, top [60.0, 57.0, 54.0, 51.0, 48.0]" in out
    assert "published from the draft: numbers_draft Active" in out


@pytest.mark.docker
def test_getting_started_runs_in_docker_too(tmp_path, docker_image):
    done, env = _run(tmp_path, "v1_getting_started",
                     {"AMLOCAL_EXECUTOR": "docker", "AMLOCAL_BASE_IMAGE": docker_image})
    assert "metrics: {'rmse': 1.778, 'slope': 2.996}" in done.stdout.splitlines()
    logs = amlocal("logs", "latest", "prep", cwd=tmp_path, env=env)
    assert logs.stdout == "prep: 3 files, 120 rows, 60 for training\n"
