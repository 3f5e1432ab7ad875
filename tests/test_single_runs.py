"""Single runs: `Experiment.submit(ScriptRunConfig(...))` runs one script (or command) and is
recorded as a pipeline run of one step, so it is listed and shown like one; the ScriptRun it
returns waits, cancels and reads the script's metrics, files and details (local executor)."""
from __future__ import annotations

import pytest

from runner.sdk import Experiment
from runner.sdk.script_run_config import ScriptRun, ScriptRunConfig
from runner.step_runtime.exceptions import ActivityFailedException
from store.runs import get_pipeline_run, get_step_runs, list_pipeline_runs

TRAIN = """
    import os, sys
    from azureml.core import Run
    run = Run.get_context()
    run.log("alpha", float(sys.argv[2]))
    run.log("loss", 0.5); run.log("loss", 0.25)
    os.makedirs("outputs", exist_ok=True)
    open("outputs/model.txt", "w").write("weights")
    print("trained with", sys.argv[1:])
"""


def test_a_script_run_is_recorded_as_a_one_step_run_and_reads_back(workspace, write, tmp_path):
    write("src/train.py", TRAIN)
    config = ScriptRunConfig(source_directory=str(tmp_path / "src"), script="train.py",
                             arguments=["--alpha", 0.5])
    run = Experiment(workspace, "single").submit(config)
    assert type(run) is ScriptRun and run.type == "azureml.scriptrun"
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert run.get_metrics() == {"alpha": 0.5, "loss": [0.5, 0.25]}
    assert run.get_file_names() == ["azureml-logs/stderr.txt", "azureml-logs/stdout.txt",
                                    "outputs/model.txt"]
    run.download_file("outputs/model.txt", str(tmp_path / "model.txt"))
    assert (tmp_path / "model.txt").read_text() == "weights"
    assert run.get_stdout_log() == "trained with ['--alpha', '0.5']\n"
    details = run.get_details()
    assert (details["runId"], details["status"], details["exitCode"]) == (run.id, "Finished", 0)
    assert details["runDefinition"]["arguments"] == ["--alpha", "0.5"]
    conn = workspace._local.conn
    (listed,) = list_pipeline_runs(conn)
    assert (listed.id, listed.experiment_name, listed.pipeline_name) == (run.id, "single", "train.py")
    assert [(s.name, s.status) for s in get_step_runs(conn, run.id)] == [("train.py", "Finished")]


def test_a_single_run_always_runs_again(workspace, write, tmp_path):
    write("src/train.py", TRAIN)
    config = ScriptRunConfig(source_directory=str(tmp_path / "src"), script="train.py",
                             arguments=["--alpha", 1])
    first = Experiment(workspace, "single").submit(config)
    first.wait_for_completion(show_output=False)
    second = Experiment(workspace, "single").submit(config)
    assert second.wait_for_completion(show_output=False) == "Finished"
    (step,) = get_step_runs(workspace._local.conn, second.id)
    assert (step.decision, step.reused_step_run_id) == ("run", None)
    assert second.get_metrics()["alpha"] == 1.0


def test_a_command_run(workspace, write, tmp_path):
    write("src/train.py", TRAIN)
    config = ScriptRunConfig(source_directory=str(tmp_path / "src"),
                             command=["python train.py --alpha 2"])
    run = Experiment(workspace, "single").submit(config)
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert run.get_metrics()["alpha"] == 2.0
    assert get_pipeline_run(workspace._local.conn, run.id).pipeline_name == "python"


def test_a_failing_script_run_raises_on_wait_and_says_why(workspace, write, tmp_path):
    write("src/bad.py", "raise SystemExit('no data')\n")
    run = Experiment(workspace, "single").submit(
        ScriptRunConfig(source_directory=str(tmp_path / "src"), script="bad.py"))
    with pytest.raises(ActivityFailedException) as caught:
        run.wait_for_completion(show_output=False)
    assert str(caught.value) == (f"Activity Failed: pipeline run {run.id} failed: "
                                 "step bad.py: exit code 1: no data")
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    assert run.get_details()["error"] == "step failed: bad.py"


def test_cancel_stops_a_script_run(workspace, write, tmp_path):
    write("src/slow.py", "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    run = Experiment(workspace, "single").submit(
        ScriptRunConfig(source_directory=str(tmp_path / "src"), script="slow.py"))
    import time
    deadline = time.time() + 30
    while run.get_stdout_log() != "started\n" and time.time() < deadline:
        time.sleep(0.1)
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    assert run.get_status() == "Canceled"


def test_config_mistakes_are_the_sdks_errors(tmp_path):
    with pytest.raises(ValueError) as both:
        ScriptRunConfig(source_directory=".", script="a.py", command="python a.py")
    assert str(both.value) == "Only one of script or command can be specified, not both"
    with pytest.raises(ValueError) as args:
        ScriptRunConfig(source_directory=".", command="python a.py", arguments=["-x"])
    assert str(args.value) == "arguments can only be specified with script; put them in command"
