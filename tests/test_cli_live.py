"""The command line on live and failing runs: following a running step, a step that fails."""
from __future__ import annotations

import os
import re
import subprocess
import time

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from tests.conftest import AMLOCAL, REPO, amlocal

GATED = """
    import os, time
    print("before the gate", flush=True)
    while not os.path.exists(GATE):
        time.sleep(0.05)
    print("after the gate", flush=True)
"""


def test_logs_follow_prints_lines_while_the_step_runs_and_stops_when_it_ends(workspace, write, tmp_path):
    gate = tmp_path / "gate"
    write("steps/gated.py", GATED.replace("GATE", repr(str(gate))))
    step = PythonScriptStep("gated.py", name="gated", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "follow").submit(Pipeline(workspace, [step]))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    follower = subprocess.Popen([*AMLOCAL, "logs", "-f", run.id, "gated"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert follower.stdout.readline() == "before the gate\n"
        assert next(run.get_steps()).get_status() == "Running"  # printed live, not at the end
        gate.touch()
        assert follower.stdout.readline() == "after the gate\n"
        assert follower.wait(timeout=30) == 0  # the step ended, so the follower stops by itself
    finally:
        follower.kill()
    assert run.wait_for_completion(show_output=False) == "Finished"


def test_a_failing_step_through_the_cli_names_the_step_and_its_error(tmp_path, write):
    write("p/steps/bad.py", """
        print("loading data")
        raise SystemExit("no rows in input")
    """)
    write("p/pipeline.py", """
        from azureml.core import Experiment, Workspace
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep
        ws = Workspace.from_config()
        step = PythonScriptStep("bad.py", name="bad", source_directory="steps")
        Experiment(ws, "failing").submit(Pipeline(ws, [step])).wait_for_completion()
    """)
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    started = time.monotonic()
    done = amlocal("run", str(tmp_path / "p" / "pipeline.py"), cwd=tmp_path, env=env)
    assert time.monotonic() - started < 60
    assert done.returncode == 1
    assert "[bad] loading data" in done.stdout
    assert "StepRun( bad ) Status: Failed" in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"amlocal: error: pipeline.py:7: ActivityFailedException: Activity Failed: "
                        r"pipeline run [0-9a-f-]{36} failed: step bad: exit code 1: no rows in input", last)
    runs = amlocal("runs", cwd=tmp_path, env=env)
    assert "Failed" in runs.stdout.splitlines()[1]
    logs = amlocal("logs", "latest", "bad", cwd=tmp_path, env=env)
    assert logs.stdout == "loading data\n" and "no rows in input" in logs.stderr


def test_ctrl_c_during_amlocal_run_leaves_the_run_going_and_says_how_to_stop_it(tmp_path, write):
    import signal
    gate = tmp_path / "gate"
    write("p/steps/gated.py", GATED.replace("GATE", repr(str(gate))))
    write("p/pipeline.py", """
        from azureml.core import Experiment, Workspace
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep
        ws = Workspace.from_config()
        step = PythonScriptStep("gated.py", name="gated", source_directory="steps")
        Experiment(ws, "interrupted").submit(Pipeline(ws, [step])).wait_for_completion(show_output=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "AMLOCAL_EXECUTOR": "local",
           "AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    client = subprocess.Popen([*AMLOCAL, "run", str(tmp_path / "p" / "pipeline.py")], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in client.stdout:
            if "before the gate" in line:
                break
        client.send_signal(signal.SIGINT)  # what Ctrl-C sends
        _, err = client.communicate(timeout=30)
    finally:
        client.kill()
    assert client.returncode == 130
    run_id = re.search(r"amlocal: run (\w{8}) goes on in the background; "
                       r"`amlocal cancel \1` stops it", err).group(1)
    gate.touch()  # the runner, not the interrupted client, finishes the run
    deadline = time.monotonic() + 60
    while "Finished" not in amlocal("runs", cwd=tmp_path, env=env).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert run_id in amlocal("runs", cwd=tmp_path, env=env).stdout
