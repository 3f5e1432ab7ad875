"""`amlocal debug RUN STEP [-- COMMAND…]`: a failed step's working copy is kept, and a command
runs in the step's exact environment (its inputs, environment variables and working copy),
locally and in Docker; the command that reruns the step is printed; errors are one line."""
from __future__ import annotations

import json
import os
import signal

import pytest

from runner.sdk import Experiment, Pipeline, PipelineData, PythonScriptStep, RunConfiguration
from store.runs import get_step_runs
from tests.conftest import amlocal

PREP = """
    import os, sys
    os.makedirs(sys.argv[2], exist_ok=True)
    with open(os.path.join(sys.argv[1], "a.txt")) as f, open(os.path.join(sys.argv[2], "p.txt"), "w") as out:
        out.write(f.read().upper())
"""
TRAIN = """
    import sys
    open("partial.txt", "w").write("epoch 1 of " + sys.argv[2])
    raise SystemExit("diverged")
"""
SYSTEM_PYTHON = "/usr/bin/python3"  # an interpreter without debugpy (the venv has it)
# What the test's command prints: the inputs it sees, its environment, its working copy.
PROBE = ("import json, os; e = os.environ; p = e['AZUREML_DATAREFERENCE_prepared']; "
         "print('PROBE', json.dumps({'run_id': e['AZUREML_RUN_ID'], 'step': e['AMLOCAL_STEP_NAME'], "
         "'prepared': open(os.path.join(p, 'p.txt')).read(), 'cwd': os.getcwd(), "
         "'partial': open('partial.txt').read() if os.path.exists('partial.txt') else None, "
         "'script': os.path.exists('train.py'), 'lr': e.get('AML_PARAMETER_lr')}))")


def _pipeline(ws, root):
    from runner.sdk import PipelineParameter
    ds = ws.get_default_datastore()
    raw = ds.path("raw", data_reference_name="raw")
    prepared = PipelineData("prepared", datastore=ds)
    lr = PipelineParameter("lr", default_value=0.1)
    prep = PythonScriptStep("prep.py", name="prep", source_directory=str(root / "prep"),
                            arguments=[raw, prepared], inputs=[raw], outputs=[prepared])
    train = PythonScriptStep("train.py", name="train", source_directory=str(root / "train"),
                             arguments=[prepared, lr], inputs=[prepared],
                             runconfig=RunConfiguration())
    after = PythonScriptStep("prep.py", name="after", source_directory=str(root / "prep"),
                             arguments=[prepared, "x"], inputs=[prepared])
    after.run_after(train)
    return Pipeline(ws, [prep, train, after])


@pytest.fixture
def failed_run(workspace, write, tmp_path):
    """A run whose prep finished, train failed after writing partial.txt, after never ran."""
    write("prep/prep.py", PREP)
    write("train/train.py", TRAIN)
    write("data/raw/a.txt", "hello\n")
    workspace.get_default_datastore().upload(str(tmp_path / "data" / "raw"), "raw",
                                             show_progress=False)

    def submit():
        run = Experiment(workspace, "debug").submit(_pipeline(workspace, tmp_path))
        assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
        return run
    return submit


def _probe(stdout: str) -> dict:
    (line,) = [line for line in stdout.splitlines() if line.startswith("PROBE ")]
    return json.loads(line[len("PROBE "):])


def _steps(workspace, run_id):
    return {s.name: s for s in get_step_runs(workspace._local.conn, run_id)}


def test_a_failed_steps_working_copy_is_kept_and_the_others_are_not(workspace, failed_run):
    run = failed_run()
    steps = _steps(workspace, run.id)
    assert (steps["train"].status, steps["prep"].status) == ("Failed", "Finished")
    assert (steps["train"].run_dir / "wd" / "partial.txt").read_text() == "epoch 1 of 0.1"
    assert (steps["prep"].run_dir / "wd").exists() is False


def test_a_canceled_steps_working_copy_is_removed(workspace, write, tmp_path):
    import time
    write("wait/wait.py", "import time\nopen('partial.txt', 'w').write('x')\ntime.sleep(600)\n")
    step = PythonScriptStep("wait.py", name="wait", source_directory=str(tmp_path / "wait"))
    run = Experiment(workspace, "debug").submit(Pipeline(workspace, [step]))
    deadline = time.monotonic() + 30
    while not list(run.get_steps()) or not (
            next(run.get_steps())._record().run_dir / "wd" / "partial.txt").exists():
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.05)
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    (record,) = get_step_runs(workspace._local.conn, run.id)
    assert (record.status, (record.run_dir / "wd").exists()) == ("Canceled", False)


def test_debug_runs_a_command_in_the_failed_steps_environment(workspace, failed_run, tmp_path):
    run = failed_run()
    steps = _steps(workspace, run.id)
    train, prep = steps["train"], steps["prep"]
    done = amlocal("debug", run.id[:8], "train", "--", "python", "-c", PROBE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = _probe(done.stdout)
    prepared = prep.outputs["prepared"].local_path
    assert seen == {"run_id": train.id, "step": "train", "prepared": "HELLO\n",
                    "cwd": str(train.run_dir / "wd"), "partial": "epoch 1 of 0.1",
                    "script": True, "lr": "0.1"}
    import shlex
    import sys
    assert done.stdout.splitlines()[:2] == [
        f"amlocal: step train ({train.id[:8]}, {sys.executable}) in {train.run_dir / 'wd'}",
        f"amlocal: the step ran: {shlex.join([sys.executable, 'train.py', str(prepared), '0.1'])}"]


def test_debug_exit_status_is_the_commands(workspace, failed_run, tmp_path):
    run = failed_run()
    done = amlocal("debug", run.id[:8], "train", "--", "python", "-c", "raise SystemExit(3)",
                   cwd=tmp_path)
    assert (done.returncode, done.stderr) == (3, "")


def test_a_finished_step_gets_a_fresh_copy_of_its_snapshot(workspace, failed_run, tmp_path):
    run = failed_run()
    prep = _steps(workspace, run.id)["prep"]
    done = amlocal("debug", run.id[:8], "prep", "--", "python", "-c",
                   "import os; print(sorted(os.listdir('.')))", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (f"amlocal: the working copy of step prep is gone (it finished): this is "
                        f"a fresh copy of its snapshot, in {prep.run_dir / 'wd'}")
    assert lines[-1] == "['prep.py']"


def test_a_reused_step_is_debugged_as_the_step_run_it_reused(workspace, failed_run, tmp_path):
    first = failed_run()
    second = failed_run()
    original = _steps(workspace, first.id)["prep"]
    done = amlocal("debug", second.id[:8], "prep", "--", "python", "-c",
                   "import os; print(os.environ['AZUREML_RUN_ID'])", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (f"amlocal: step prep was reused from run {first.id[:8]}: debugging that "
                        f"step run ({original.id[:8]})")
    assert lines[-1] == original.id


def test_debug_errors_are_one_line(workspace, failed_run, tmp_path):
    run = failed_run()
    short = run.id[:8]
    done = amlocal("debug", short, "trian", "--", "true", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"amlocal: error: run {short} has no step trian (its steps: prep, train, after)\n")
    done = amlocal("debug", short, "after", "--", "true", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"amlocal: error: step after of run {short} never started: Canceled "
               "(not run: step train failed)\n")
    conn = workspace._local.conn  # as if train had run in Docker (the test's own SQL)
    conn.execute("UPDATE step_run SET executor = 'docker' WHERE id = ?",
                 (_steps(workspace, run.id)["train"].id,))
    conn.commit()
    done = amlocal("debug", short, "train", "--", "true", cwd=tmp_path,
                   env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("amlocal: error: step train ran in Docker, but no Docker "
                                  "engine answers (")
    assert done.stderr.count("\n") == 1
    done = amlocal("debug", "ffffffff", "train", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1, "amlocal: error: no pipeline run matches 'ffffffff' (see `amlocal runs`)\n")
    done = amlocal("debug", short, "train", "--pdb", "--", "true", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1, "amlocal: error: give either a command after -- or --pdb/--listen, not both\n")


def test_pdb_runs_the_steps_command_under_pdb(workspace, failed_run, tmp_path):
    """With stdin closed pdb quits at once: what matters is that it ran the step's script."""
    run = failed_run()
    done = amlocal("debug", run.id[:8], "train", "--pdb", cwd=tmp_path)
    assert "train.py" in done.stdout
    assert "(Pdb)" in done.stdout


def test_listen_says_when_debugpy_is_missing(workspace, failed_run, tmp_path):
    """The step's interpreter ($AMLOCAL_PYTHON here) has no debugpy: one line saying so."""
    run = failed_run()
    done = amlocal("debug", run.id[:8], "train", "--listen", "5678", cwd=tmp_path,
                   env={"AMLOCAL_PYTHON": SYSTEM_PYTHON})
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"amlocal: error: debugpy is not installed in the step's interpreter "
               f"{SYSTEM_PYTHON}; add debugpy to the environment's pip packages (or `pip "
               "install debugpy` there), or use --pdb\n")


def test_listen_waits_for_a_debugger_on_the_port(workspace, failed_run, tmp_path):
    """With debugpy there, the step's command waits under debugpy for a client on the port."""
    import socket
    import subprocess
    import sys
    import time
    from tests.conftest import AMLOCAL, REPO
    run = failed_run()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "AMLOCAL_EXECUTOR": "local", "PYTHONPATH": str(REPO),
           "AMLOCAL_PYTHON": sys.executable}
    proc = subprocess.Popen([*AMLOCAL, "debug", run.id[:8], "train", "--listen", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "amlocal debug --listen ended before listening"
                assert time.monotonic() < deadline, "nothing listened on the port"
                time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        out = proc.communicate()[0]
    assert out.splitlines()[-1] == (f"amlocal: waiting for a debugger on 127.0.0.1:{port} "
                                    '(VS Code: "Python: Remote Attach")')


@pytest.mark.docker
def test_debug_in_docker_sees_the_containers_environment(docker_workspace, failed_run, tmp_path,
                                                         docker_image):
    run = failed_run()
    steps = _steps(docker_workspace, run.id)
    train = steps["train"]
    assert train.executor == "docker"
    partial = train.run_dir / "wd" / "partial.txt"
    assert partial.read_text() == "epoch 1 of 0.1"
    owner = tmp_path.stat()
    assert (partial.stat().st_uid, partial.stat().st_gid) == (owner.st_uid, owner.st_gid)
    done = amlocal("debug", run.id[:8], "train", "--", "python3", "-c", PROBE, cwd=tmp_path,
                   env={"AMLOCAL_EXECUTOR": "docker", "AMLOCAL_BASE_IMAGE": docker_image})
    assert done.returncode == 0, done.stderr
    seen = _probe(done.stdout)
    wd = f"/amlocal/workspace/runs/{run.id}/{train.id}/wd"
    assert seen == {"run_id": train.id, "step": "train", "prepared": "HELLO\n", "cwd": wd,
                    "partial": "epoch 1 of 0.1", "script": True, "lr": "0.1"}
    prepared = steps["prep"].outputs["prepared"]
    line = [x for x in done.stdout.splitlines() if x.startswith("amlocal: the step ran: ")][0]
    assert line == (f"amlocal: the step ran: python3 train.py /amlocal/workspace/datastores/"
                    f"{prepared.datastore}/{prepared.path} 0.1")
    done = amlocal("debug", run.id[:8], "train", "--", "sh", "-c", "id -u; echo x > mine.txt",
                   cwd=tmp_path, env={"AMLOCAL_EXECUTOR": "docker", "AMLOCAL_BASE_IMAGE": docker_image})
    assert done.returncode == 0, done.stderr
    step_uid = 65532 if owner.st_uid == 0 else owner.st_uid  # a root workspace's steps: 65532
    assert done.stdout.splitlines()[-1] == str(step_uid)
    mine = (train.run_dir / "wd" / "mine.txt").stat()  # handed back to the owner, as after a step
    assert (mine.st_uid, mine.st_gid) == (owner.st_uid, owner.st_gid)
    done = amlocal("debug", run.id[:8], "train", "--listen", "5678", cwd=tmp_path,
                   env={"AMLOCAL_EXECUTOR": "docker", "AMLOCAL_BASE_IMAGE": docker_image})
    image = train.properties.get("amlocal.image")
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"amlocal: error: debugpy is not installed in the step's image {image}; add "
               "debugpy to the environment's pip packages (or `pip install debugpy` there), or "
               "use --pdb\n")
