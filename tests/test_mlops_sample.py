"""sample_projects/mlops_registry run as users run it (`amlocal run pipeline.py`), in local
processes and in Docker: a registered environment, a TabularDataset registered by the script and
read by name in a step, a model registered from a step only when it beats the registered one.

Three runs: the first registers churn-model version 1; the second, on the same data, reuses prep
and train and keeps version 1 (evaluate never reuses, since it reads the model registry); the
third, on the next data drop (800 rows, the first 400 unchanged), registers dataset version 2
and, its model being more accurate, churn-model version 2.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from runner.sdk import Dataset, Environment, Experiment
from runner.sdk.tabular_dataset import TabularDataset
from runner.step_runtime.model import Model
from store import registry
from tests.conftest import REPO, amlocal

FIRST_EVALUATE = ("[evaluate] new model accuracy 0.8300: better, registering churn-model "
                  "(version 1 when this step succeeds)\n")
SECOND_EVALUATE = ("[evaluate] registered churn-model:1 (accuracy tag 0.8300): accuracy 0.8300 "
                   "on these test rows\n"
                   "[evaluate] new model accuracy 0.8300: not better than 0.8300, keeping "
                   "churn-model:1\n")
THIRD_EVALUATE = ("[evaluate] registered churn-model:1 (accuracy tag 0.8300): accuracy 0.8650 "
                  "on these test rows\n"
                  "[evaluate] new model accuracy 0.8750: better, registering churn-model "
                  "(version 2 when this step succeeds)\n")


def _run(tmp_path, executor: str, image: str | None = None) -> subprocess.CompletedProcess:
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal"), "AMLOCAL_EXECUTOR": executor}
    if image:
        env["AMLOCAL_BASE_IMAGE"] = image
    done = amlocal("run", str(tmp_path / "mlops_registry" / "pipeline.py"), cwd=tmp_path, env=env,
                   timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _step_lines(stdout: str, step: str) -> str:
    """What the sample's script printed in `step` (its log lines that `amlocal run` shows,
    without the executor's notes and an image build's lines)."""
    words = ("read ", "trained ", "new model ", "registered ")
    return "".join(line + "\n" for line in stdout.splitlines()
                   if any(line.startswith(f"[{step}] {w}") for w in words))


def _runs(workspace) -> list:
    """The sample's pipeline runs, oldest first, with their step runs by name."""
    runs = list(Experiment(workspace, "mlops-registry").get_runs())[::-1]
    return [(run, {s.name: s for s in run.get_steps()}) for run in runs]


def _check_three_runs(workspace, tmp_path, executor: str, image: str | None = None) -> None:
    shutil.copytree(REPO / "sample_projects" / "mlops_registry", tmp_path / "mlops_registry")
    conn = workspace._local.conn

    # 1. the first run: everything runs, the model is registered as version 1
    first = _run(tmp_path, executor, image)
    assert "dataset churn-raw:1\n" in first.stdout
    assert _step_lines(first.stdout, "prep") == ("[prep] read churn-raw:1 (400 rows, 6 columns); "
                                                "split 300 train / 100 test\n")
    assert _step_lines(first.stdout, "train") == ("[train] trained logistic_regression on 300 rows: "
                                                  "train accuracy 0.8567, test accuracy 0.8300\n")
    assert _step_lines(first.stdout, "evaluate") == FIRST_EVALUATE
    (run1, steps1), = _runs(workspace)
    assert run1.get_status() == "Finished"
    assert [(s.name, s._record().decision) for s in steps1.values()] == [
        ("prep", "run"), ("train", "run"), ("evaluate", "run")]
    dataset = Dataset.get_by_name(workspace, "churn-raw")
    assert (type(dataset), dataset.version, type(dataset.version)) == (TabularDataset, 1, int)
    (model,) = Model.list(workspace, name="churn-model")
    assert (model.id, model.version, type(model.version)) == ("churn-model:1", 1, int)
    assert model.tags == {"accuracy": "0.8300", "dataset": "churn-raw:1"}
    assert model.run_id == steps1["evaluate"].id
    assert model.datasets == {"training": [dataset.id]}
    stored = json.loads(open(Model.get_model_path("churn-model", _workspace=workspace)).read())
    assert (stored["kind"], stored["features"]) == (
        "logistic_regression", ["tenure_months", "monthly_charges", "support_calls",
                                "month_to_month", "two_year"])
    accuracy, rows = steps1["train"].get_metrics()["test_accuracy"], steps1["prep"].get_metrics()["rows"]
    assert (accuracy, type(accuracy), rows, type(rows)) == (0.83, float, 400, int)
    assert steps1["evaluate"].get_tags()["decision"] == "registered"
    # lineage: what each step read by name
    used = {name: sorted((a.kind, a.name, a.version) for a in
                         registry.used_by_step_run(conn, step.id)) for name, step in steps1.items()}
    env_v1 = ("environment", "mlops-env", 1)  # every step that ran, ran in it
    assert used == {"prep": [("dataset", "churn-raw", 1), env_v1], "train": [env_v1],
                    "evaluate": [("dataset", "churn-raw", 1), env_v1]}
    assert [a.name for a in registry.made_by_pipeline_run(conn, run1.id)] == ["churn-model"]

    # 2. the same data again: prep and train reused, evaluate keeps version 1
    second = _run(tmp_path, executor, image)
    assert "dataset churn-raw:1\n" in second.stdout
    assert f"StepRun( prep ) Status: Finished  (reused from {run1.id[:8]}/prep)" in second.stdout
    assert f"StepRun( train ) Status: Finished  (reused from {run1.id[:8]}/train)" in second.stdout
    assert "StepRun( evaluate ) rerun: allow_reuse=False" in second.stdout
    assert _step_lines(second.stdout, "evaluate") == SECOND_EVALUATE
    run2, steps2 = _runs(workspace)[1]
    assert [(s.name, s._record().decision, s._record().reused_step_run_id)
            for s in steps2.values()] == [("prep", "reused", steps1["prep"].id),
                                          ("train", "reused", steps1["train"].id),
                                          ("evaluate", "run", None)]
    assert [(m.id, m.tags) for m in Model.list(workspace, name="churn-model")] == [
        ("churn-model:1", {"accuracy": "0.8300", "dataset": "churn-raw:1"})]
    assert registry.made_by_pipeline_run(conn, run2.id) == []
    assert sorted((a.kind, a.name, a.version) for a in
                  registry.used_by_step_run(conn, steps2["evaluate"].id)) == [
        ("environment", "mlops-env", 1), ("model", "churn-model", 1)]
    assert steps2["evaluate"].get_tags()["decision"] == "kept"
    environment = Environment.get(workspace, "mlops-env")
    assert (environment.version, type(environment.version)) == ("1", str)
    assert [r.version for r in registry.list_versions(conn, "environment", "mlops-env")] == [1]
    assert [r.version for r in registry.list_versions(conn, "dataset", "churn-raw")] == [1]

    # 3. the next data drop: a new dataset version, every step runs, a better model: version 2
    subprocess.run([sys.executable, str(tmp_path / "mlops_registry" / "make_data.py"),
                    "--rows", "800"], check=True)
    third = _run(tmp_path, executor, image)
    assert "dataset churn-raw:2\n" in third.stdout
    assert "StepRun( prep ) rerun: arguments changed" in third.stdout
    assert _step_lines(third.stdout, "prep") == ("[prep] read churn-raw:2 (800 rows, 6 columns); "
                                                "split 600 train / 200 test\n")
    assert _step_lines(third.stdout, "evaluate") == THIRD_EVALUATE
    run3, steps3 = _runs(workspace)[2]
    if executor == "docker":  # every step of the three runs in one image, built at most once
        lines = [(n, line) for n, out in enumerate((first, second, third), 1)
                 for line in out.stdout.splitlines() if re.match(
                     r"\[\w+\] environment mlops-env: (using|building) image amlocal-env:", line)]
        assert [sorted(line[1:].split("]")[0] for n, line in lines if n == k) for k in (1, 2, 3)] == [
            ["evaluate", "prep", "train"], ["evaluate"], ["evaluate", "prep", "train"]]
        assert len({re.search(r"amlocal-env:\w+", line)[0] for _, line in lines}) == 1, lines
        assert [n for n, line in lines if "building image" in line] in ([], [1]), lines
    assert [s._record().decision for s in steps3.values()] == ["run", "run", "run"]
    assert sorted((a.kind, a.name, a.version) for a in
                  registry.used_by_step_run(conn, steps3["evaluate"].id)) == [
        ("dataset", "churn-raw", 2), ("environment", "mlops-env", 1), ("model", "churn-model", 1)]
    assert [(m.id, m.tags, m.run_id) for m in Model.list(workspace, name="churn-model")] == [
        ("churn-model:2", {"accuracy": "0.8750", "dataset": "churn-raw:2"}, steps3["evaluate"].id),
        ("churn-model:1", {"accuracy": "0.8300", "dataset": "churn-raw:1"}, steps1["evaluate"].id)]
    assert [r.version for r in registry.list_versions(conn, "environment", "mlops-env")] == [1]
    assert Environment.get(workspace, "mlops-env").version == "1"

    # what users read: `amlocal models` and `amlocal datasets`
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    models = amlocal("models", cwd=tmp_path, env=env)
    assert (models.returncode, models.stderr) == (0, "")
    assert models.stdout == (
        "NAME         VERSIONS  DESCRIPTION                       TAGS                                  MADE BY            USED BY\n"
        f"churn-model  2, 1      logistic regression on churn-raw  accuracy=0.8750, dataset=churn-raw:2  {run3.id[:8]}/evaluate  2\n")
    detail = amlocal("models", "churn-model", "-v", "2", cwd=tmp_path, env=env).stdout
    assert f"  Made by      {run3.id}/evaluate (experiment mlops-registry)\n" in detail
    assert "  Made from    dataset churn-raw:2, environment mlops-env:1, model churn-model:1\n" in detail
    assert "  Files        1: model.json\n" in detail
    datasets = amlocal("datasets", cwd=tmp_path, env=env).stdout
    assert datasets == (  # read by prep and evaluate of the first and the third run
        "NAME       VERSIONS  DESCRIPTION                               TAGS                   MADE BY  USED BY\n"
        "churn-raw  2, 1      telecom customers, one row each, with c\u2026  source=data/churn.csv  script   4\n")
    environments = amlocal("environments", cwd=tmp_path, env=env).stdout
    # used by the 3 steps of the first run, evaluate of the second (the others were reused,
    # so nothing ran) and the 3 of the third
    assert environments.splitlines()[1].split() == ["mlops-env", "1", "-", "-", "script", "7"]


def test_the_mlops_sample_registers_a_model_only_when_it_is_better(workspace, tmp_path):
    _check_three_runs(workspace, tmp_path, "local")


@pytest.mark.docker
def test_the_mlops_sample_in_docker_builds_its_environment_once(docker_workspace, docker_image,
                                                               tmp_path):
    _check_three_runs(docker_workspace, tmp_path, "docker", docker_image)


def test_the_committed_data_is_what_make_data_writes(tmp_path):
    shutil.copytree(REPO / "sample_projects" / "mlops_registry", tmp_path / "mlops_registry")
    written = tmp_path / "mlops_registry" / "data" / "churn.csv"
    written.unlink()
    subprocess.run([sys.executable, str(tmp_path / "mlops_registry" / "make_data.py")], check=True)
    committed = (REPO / "sample_projects" / "mlops_registry" / "data" / "churn.csv").read_bytes()
    assert (written.read_bytes(), len(committed.splitlines())) == (committed, 401)
