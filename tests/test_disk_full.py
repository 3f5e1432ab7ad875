"""A full disk: the step that meets it fails "no space left on device (…)", the run ends Failed
with that reason, the runner says it in one line and exits, and the command line keeps
answering in one line. The workspace lives on a small tmpfs mounted for the test (root only)."""
from __future__ import annotations

import os
import subprocess

import pytest

from conftest import amlocal
from runner.sdk import Experiment, Pipeline, PythonScriptStep

DISK_BYTES = 12 * 2**20
FILL = """
import os
from azureml.core import Run
run = Run.get_context()
run.log("a", 1)
run.flush()
target = os.path.join(os.environ.get("TARGET") or "outputs", "big.bin")
os.makedirs(os.path.dirname(target), exist_ok=True)
with open(target, "wb") as f:
    for i in range(64):
        f.write(b"x" * 2**20)
        run.log("mb", i)
"""


@pytest.fixture
def disk_workspace(tmp_path, monkeypatch):
    """A workspace (and its sources) on a 12 MiB tmpfs."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(disk)],
                          capture_output=True, text=True) if os.geteuid() == 0 else None
    if done is None or done.returncode != 0:
        why = "mounting a small tmpfs needs root" if done is None else done.stderr.strip()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs a small disk for the disk-full tests: {why}")
        pytest.skip(why)
    from runner.sdk import Workspace, local_context
    monkeypatch.setenv("AMLOCAL_HOME", str(disk / ".amlocal"))
    monkeypatch.setenv("AMLOCAL_EXECUTOR", "local")
    monkeypatch.chdir(disk)
    local_context.reset_local_workspace()
    yield Workspace.get("test"), disk
    local_context.reset_local_workspace()
    subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(workspace, disk, target: str | None = None):
    (disk / "steps").mkdir()
    (disk / "steps" / "fill.py").write_text(FILL)
    from runner.sdk import RunConfiguration
    config = RunConfiguration()
    config.environment.environment_variables = {"TARGET": target or ""}
    step = PythonScriptStep("fill.py", name="fill", source_directory=str(disk / "steps"),
                            runconfig=config)
    run = Experiment(workspace, "full").submit(Pipeline(workspace, [step]))
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    (step_run,) = run.find_step_run("fill")
    return run, step_run, status


def _runner_log(workspace, run) -> str:
    return workspace._local.layout.runner_log(run.id).read_text()


def test_a_step_that_fills_the_disk_fails_saying_so_and_the_run_ends_failed_with_that_reason(disk_workspace):
    workspace, disk = disk_workspace
    run, step_run, status = _fill(workspace, disk)
    assert status == "Failed"
    error = step_run.get_details()["error"]
    assert error.startswith("no space left on device (")
    assert run.get_details()["error"] == f"step failed: fill: {error}"
    assert step_run.get_metrics()["a"] == 1 and type(step_run.get_metrics()["a"]) is int
    log = _runner_log(workspace, run)
    assert "Traceback" not in log
    assert log.splitlines() == [f"amlocal runner: step fill failed: {error}"]
    assert not (step_run._record().run_dir / "wd").exists()  # the working copy gave its space back
    shown = amlocal("show", run.id, cwd=disk, env={"AMLOCAL_HOME": str(disk / ".amlocal")})
    assert shown.returncode == 0 and "Traceback" not in shown.stderr
    assert f"step failed: fill: {error}" in shown.stdout


def test_a_disk_that_stays_full_still_records_the_failure_and_the_cli_says_so_in_one_line(disk_workspace):
    """The big file goes to a datastore folder, so the disk stays full after the step: the
    runner gives up the workspace's space reserve to record why, and a command that must
    write says "no space left on device" in one line."""
    workspace, disk = disk_workspace
    datastore = workspace._local.layout.datastore_dir("workspaceblobstore")
    run, step_run, status = _fill(workspace, disk, target=str(datastore / "filled"))
    assert status == "Failed"
    assert step_run.get_details()["error"].startswith("no space left on device (")
    assert run.get_status() == "Failed"
    assert not (workspace._local.layout.root / "space-reserve").exists()
    assert "Traceback" not in _runner_log(workspace, run)
    env = {"AMLOCAL_HOME": str(disk / ".amlocal")}
    try:  # whatever the reserve gave back, taken again
        with open(disk / "rest", "wb", buffering=0) as rest:
            while True:
                rest.write(b"x" * 4096)
    except OSError:
        pass
    shown = amlocal("show", run.id, cwd=disk, env=env)
    assert shown.returncode == 0, shown.stderr
    done = amlocal("compute", "create", "cpu", "--vm-size", "STANDARD_D2_V2", "--max-nodes", "2",
                   cwd=disk, env=env)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("amlocal: error: no space left on device ("), done.stderr
