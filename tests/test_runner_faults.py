"""A killed runner and a cancelled run: nothing is lost, nothing keeps running."""
from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from store.runs import get_pipeline_run

SLOW = """
    import time
    from azureml.core import Run
    run = Run.get_context()
    print("started", flush=True)
    for i in range(600):
        run.log("tick", i); run.flush(); time.sleep(0.05)
"""


def _wait_running(run, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = list(run.get_steps())
        if steps and steps[0].get_status() == "Running" and steps[0].get_metrics().get("tick"):
            return steps[0]
        time.sleep(0.05)
    raise AssertionError("step never started")


def test_runner_killed_mid_step_is_marked_lost_and_its_step_stopped(workspace, write, tmp_path):
    write("steps/slow.py", SLOW)
    step = PythonScriptStep("slow.py", name="slow", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "kill").submit(Pipeline(workspace, [step]))
    step_run = _wait_running(run)
    row = get_pipeline_run(workspace._local.conn, run.id)
    step_pid = step_run._record().process_id
    os.kill(row.runner_pid, signal.SIGKILL)
    time.sleep(0.3)
    assert run.get_status() == "Failed"  # any client reading the run notices
    assert "runner lost" in run.get_details()["error"]
    assert "runner lost" in step_run.get_details()["error"]
    assert step_run.get_metrics()["tick"]  # metrics logged before the kill are kept
    assert step_run.get_stdout_log() == "started\n"
    deadline = time.monotonic() + 5
    while psutil.pid_exists(step_pid) and psutil.Process(step_pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the orphaned step process still runs"
        time.sleep(0.05)


def test_cancel_stops_running_steps_and_marks_the_rest(workspace, write, tmp_path):
    write("steps/slow.py", SLOW)
    write("steps/after.py", "print('never')\n")
    slow = PythonScriptStep("slow.py", name="slow", source_directory=str(tmp_path / "steps"))
    after = PythonScriptStep("after.py", name="after", source_directory=str(tmp_path / "steps"))
    after.run_after(slow)
    run = Experiment(workspace, "cancel").submit(Pipeline(workspace, [after]))
    step_run = _wait_running(run)
    step_pid = step_run._record().process_id
    run.cancel()
    assert run.wait_for_completion(show_output=False) == "Canceled"
    assert step_run.get_status() == "Canceled"
    assert run.find_step_run("after")[0].get_details()["error"] == "not run: canceled by user"
    assert not psutil.pid_exists(step_pid) or psutil.Process(step_pid).status() == psutil.STATUS_ZOMBIE


LOGS_WHILE_THE_RUNNER_IS_STOPPED = """
    import os, pathlib, time
    from azureml.core import Run
    run = Run.get_context()
    run.log("n", 1); run.flush()
    while not os.path.exists(os.environ["GO"]):
        time.sleep(0.02)
    for i in range(2, 38):
        run.log("n", i)
    os.makedirs("outputs", exist_ok=True)
    pathlib.Path("outputs/model.txt").write_text("weights")
    run.flush()
    pathlib.Path(os.environ["DONE"]).write_text("")
    time.sleep(600)
"""


def test_whoever_finds_the_runner_killed_ingests_the_rest_keeps_outputs_and_removes_the_working_copy(
        workspace, write, tmp_path):
    """The runner is frozen while the step logs 36 more values and writes ./outputs, then
    killed: the client that notices stores exactly the 37 values (none twice), keeps
    outputs/model.txt as an artifact and removes the working copy."""
    from runner.sdk import RunConfiguration
    write("steps/s.py", LOGS_WHILE_THE_RUNNER_IS_STOPPED)
    config = RunConfiguration()
    config.environment.environment_variables = {"GO": str(tmp_path / "go"), "DONE": str(tmp_path / "done")}
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"),
                            runconfig=config)
    run = Experiment(workspace, "kill").submit(Pipeline(workspace, [step]))
    deadline = time.monotonic() + 20
    while not (list(run.get_steps()) and next(run.get_steps()).get_metrics().get("n") == 1):
        assert time.monotonic() < deadline, "the step never logged its first value"
        time.sleep(0.05)
    runner_pid = get_pipeline_run(workspace._local.conn, run.id).runner_pid
    os.kill(runner_pid, signal.SIGSTOP)
    (tmp_path / "go").write_text("")
    while not (tmp_path / "done").exists():
        assert time.monotonic() < deadline + 20, "the step never finished logging"
        time.sleep(0.05)
    os.kill(runner_pid, signal.SIGKILL)
    while psutil.pid_exists(runner_pid) and psutil.Process(runner_pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.02)
    assert run.get_status() == "Failed"
    (step_run,) = run.find_step_run("s")
    assert step_run.get_metrics()["n"] == list(range(1, 38))
    assert step_run.get_details()["error"].startswith("runner lost")
    assert "outputs/model.txt" in step_run.get_file_names()
    target = tmp_path / "model.txt"
    step_run.download_file("outputs/model.txt", str(target))
    assert target.read_text() == "weights"
    assert not (step_run._record().run_dir / "wd").exists()
    assert run.get_status() == "Failed"  # reconciling again stores nothing twice
    assert step_run.get_metrics()["n"] == list(range(1, 38))


WRITES_OUTPUTS_THEN_WAITS = """
    import os, pathlib, time
    from azureml.core import Run
    run = Run.get_context()
    for i in range(1, 6):
        run.log("n", i)
    run.flush()
    os.makedirs("outputs", exist_ok=True)
    pathlib.Path("outputs/tmp").write_text("weights")
    os.rename("outputs/tmp", "outputs/model.txt")
    time.sleep(600)
"""


@pytest.mark.docker
def test_a_killed_runner_of_a_docker_step_loses_nothing_and_hands_its_files_back(
        docker_workspace, write, tmp_path):
    """The container of a lost run is removed; its values, ./outputs and the owner of what it
    wrote (a root workspace runs steps as uid 65532) come out as if the runner had lived."""
    write("steps/s.py", WRITES_OUTPUTS_THEN_WAITS)
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"))
    run = Experiment(docker_workspace, "kill").submit(Pipeline(docker_workspace, [step]))
    deadline = time.monotonic() + 60
    model = None
    while model is None or not model.exists():
        assert time.monotonic() < deadline, "the step never wrote its output"
        steps = list(run.get_steps())
        if steps:
            model = steps[0]._record().run_dir / "wd" / "outputs" / "model.txt"
        time.sleep(0.05)
    os.kill(get_pipeline_run(docker_workspace._local.conn, run.id).runner_pid, signal.SIGKILL)
    time.sleep(0.2)
    assert run.get_status() == "Failed"
    (step_run,) = run.find_step_run("s")
    assert step_run.get_metrics()["n"] == [1, 2, 3, 4, 5]
    assert "outputs/model.txt" in step_run.get_file_names()
    kept = step_run._record().run_dir / "artifacts" / "outputs" / "model.txt"
    assert kept.read_text() == "weights"
    assert (kept.stat().st_uid, kept.stat().st_gid) == (0, 0)
    assert not (step_run._record().run_dir / "wd").exists()
    from runner.executors.docker_engine import docker_client
    assert docker_client().containers.list(all=True, filters={"label": f"amlocal.step-run={step_run.id}"}) == []
