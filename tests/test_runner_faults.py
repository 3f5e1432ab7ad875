"""A killed runner and a cancelled run: nothing is lost, nothing keeps running."""
from __future__ import annotations

import os
import signal
import time

import psutil

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
