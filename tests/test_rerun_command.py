"""`amlocal rerun RUN --step NAME` / `--from NAME` / `--param NAME=VALUE`: part of a pipeline
run again (that step and what depends on it; everything upstream reused), or the whole with
other parameters, from the command line, and the errors a user meets."""
from __future__ import annotations

from runner.sdk import Experiment
from store.runs import get_step_runs, list_pipeline_runs
from tests.conftest import amlocal
from tests.test_reuse import build, project  # noqa: F401  (the fixture)


def _decisions(workspace, run_id: str) -> dict[str, tuple[str, str]]:
    return {s.name: (s.decision, s.reason) for s in get_step_runs(workspace._local.conn, run_id)}


def test_rerun_one_step_forces_it_and_its_descendants_only(workspace, project, tmp_path):  # noqa: F811
    first = Experiment(workspace, "rerun").submit(build(workspace, project))
    assert first.wait_for_completion(show_output=False) == "Finished"
    done = amlocal("rerun", first.id[:8], "--step", "train", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    latest = list_pipeline_runs(workspace._local.conn)[0]
    assert done.stdout.splitlines()[0] == f"Submitted PipelineRun {latest.id} (a rerun of {first.id[:8]})"
    decisions = _decisions(workspace, latest.id)
    assert decisions["prep"][0] == "reused"
    assert decisions["train"] == ("run", "rerun: asked for (amlocal rerun --step train)")
    assert decisions["report"] == ("run", "rerun: asked for (amlocal rerun --step train)")
    assert latest.status == "Finished"


def test_rerun_from_a_step_and_with_another_parameter(workspace, project, tmp_path):  # noqa: F811
    first = Experiment(workspace, "rerun").submit(build(workspace, project))
    assert first.wait_for_completion(show_output=False) == "Finished"
    done = amlocal("rerun", "latest", "--from", "report", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    latest = list_pipeline_runs(workspace._local.conn)[0]
    assert [d for d, _ in _decisions(workspace, latest.id).values()] == ["reused", "reused", "run"]
    done = amlocal("rerun", "latest", "--param", "lr=0.5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    latest = list_pipeline_runs(workspace._local.conn)[0]
    assert latest.parameters == {"lr": 0.5} and type(latest.parameters["lr"]) is float
    assert _decisions(workspace, latest.id)["train"] == ("run", "rerun: parameter lr 0.1 → 0.5")


def test_rerun_bad_input_is_one_line(workspace, project, tmp_path):  # noqa: F811
    first = Experiment(workspace, "rerun").submit(build(workspace, project))
    assert first.wait_for_completion(show_output=False) == "Finished"
    runs_before = len(list_pipeline_runs(workspace._local.conn))
    done = amlocal("rerun", "latest", "--step", "trian", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1, "amlocal: error: the pipeline has no step trian (its steps: prep, train, report)\n")
    done = amlocal("rerun", "latest", "--param", "rate=3", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1, "amlocal: error: --param rate: the pipeline has no parameter rate (its parameters: lr)\n")
    assert len(list_pipeline_runs(workspace._local.conn)) == runs_before  # nothing submitted
