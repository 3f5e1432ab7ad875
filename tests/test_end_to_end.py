"""The sample pipeline end to end through the real CLI, and what a user reads back."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import REPO, amlocal


def test_sample_pipeline_runs_and_is_readable_from_the_cli(tmp_path):
    project = tmp_path / "compare_models"
    shutil.copytree(REPO / "sample_projects" / "compare_models", project)
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    done = amlocal("run", str(project / "pipeline.py"), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "StepRun( compare ) Status: Finished" in done.stdout
    assert "[compare] best model: linear" in done.stdout
    # each step's lines stand between its Running (when the poll saw it) and its Finished
    out = done.stdout
    printed = out.index("[compare] best model")
    assert printed < out.index("StepRun( compare ) Status: Finished")
    assert out.find("StepRun( compare ) Status: Running") < printed

    runs = amlocal("runs", cwd=tmp_path, env=env)
    assert runs.returncode == 0
    header, row = runs.stdout.splitlines()[:2]
    assert header.split()[:4] == ["RUN", "ID", "EXPERIMENT", "STATUS"]
    run_id = row.split()[0]
    assert "compare-models" in row and "Finished" in row

    show = amlocal("show", run_id[:8], cwd=tmp_path, env=env)
    assert show.returncode == 0
    for step in ("prep", "train_mean", "train_linear", "compare"):
        assert step in show.stdout
    assert "test_fraction=0.25" in show.stdout
    assert "compare.best_rmse=" in show.stdout

    logs = amlocal("logs", run_id, "train_linear", cwd=tmp_path, env=env)
    assert logs.stdout.startswith("linear: rmse=")

    metrics = amlocal("metrics", "latest", cwd=tmp_path, env=env)
    lines = [line.split() for line in metrics.stdout.splitlines()]
    squared = [line for line in lines if line[:2] == ["train_mean", "squared_error"]]
    assert squared and squared[0][-1] == "50"  # history length: one value per test row


def test_cli_without_workspace_says_so_in_one_line(tmp_path):
    done = amlocal("runs", cwd=tmp_path, env={"AMLOCAL_HOME": ""})
    assert done.returncode == 1
    assert done.stderr.startswith("amlocal: error: no amlocal workspace in")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_missing_pipeline_script_is_one_clear_line(tmp_path):
    done = amlocal("run", "nope.py", cwd=tmp_path, env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")})
    assert done.returncode == 1
    assert done.stderr.strip() == "amlocal: error: pipeline script nope.py does not exist"


def test_pipeline_definition_error_names_the_script_line(tmp_path, write):
    write("p/pipeline.py", """
        from azureml.core import Workspace
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep
        ws = Workspace.from_config()
        step = PythonScriptStep(script_name="missing.py", source_directory=".")
        Pipeline(ws, [step])
    """)
    done = amlocal("run", str(tmp_path / "p" / "pipeline.py"), cwd=tmp_path,
                   env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")})
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("amlocal: error: pipeline.py:7: ValueError: Step [missing.py]: "
                           "script not found at:")
    assert "Traceback" not in done.stderr


def test_script_evaluation_for_watch_records_only_the_submitted_runs(tmp_path, write):
    """Watch mode evaluates a changed script in a fresh process: the runs it submitted are
    recorded apart from whatever the script prints, and an error is one line naming the line."""
    write("p/steps/noop.py", "print('noop')\n")
    script = write("p/pipeline.py", """
        from azureml.core import Experiment, Workspace
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep
        print("Submitted PipelineRun not-a-run-id")  # noise a user's script may print
        ws = Workspace.from_config()
        step = PythonScriptStep("noop.py", source_directory="steps")
        run = Experiment(ws, "evaluated").submit(Pipeline(ws, [step]))
        run.wait_for_completion(show_output=False)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "AMLOCAL_EXECUTOR": "local",
           "AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    record = tmp_path / "submitted"

    def evaluate() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runner.pipeline_script", str(script),
                               "--record", str(record)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
    done = evaluate()
    assert done.returncode == 0, done.stderr
    (run_id,) = record.read_text().split()
    assert f"Submitted PipelineRun {run_id}" in done.stdout
    shown = amlocal("show", run_id, cwd=tmp_path, env={"AMLOCAL_HOME": env["AMLOCAL_HOME"]})
    assert "Finished" in shown.stdout and "evaluated" in shown.stdout

    record.unlink()
    script.write_text(script.read_text().replace('source_directory="steps"', 'source_directory=steps'))
    done = evaluate()
    assert done.returncode == 1 and record.read_text() == ""  # it failed before submitting
    assert done.stderr.strip().splitlines()[-1] == ("amlocal: error: pipeline.py:7: NameError: "
                                                    "name 'steps' is not defined")
    assert "Traceback" not in done.stderr
