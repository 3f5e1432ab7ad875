"""A step is untrusted code. What it must never reach, and what the user sees when it tries:

- **host files through a link it planted**: in its outputs, `./outputs`, `./logs`, upload-mode
  outputs, a datastore destination, an `as_download()` input, an artifact event naming a host
  path, its own `stderr.txt`. Host-side reads, copies, moves and hashes never follow such a
  link: a link pointing inside its output stays a link; one pointing anywhere else fails the
  step "output X contains a link to outside it (…)", and nothing is read or written through it.
- **a hang**: a FIFO or a link to `/dev/zero` in an output is refused by name, never opened.
- **a host path through `path_on_compute`**: absolute or relative, it lands in the step's own
  working copy; a `..` that climbs out of it fails the step before it starts.
- **the runner's own files** (logs, events, the artifacts folder) and, in a container,
  anything but its inputs (read-only), its outputs and its working copy: see the Docker tests
  at the end (capabilities, no-new-privileges, a pids limit, never uid 0).

Each test runs the real runner (local processes unless marked `docker`).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import amlocal
from runner.sdk import DataReference, Experiment, OutputFileDatasetConfig, Pipeline, PipelineData, PythonScriptStep
from runner.step_runtime.exceptions import UserErrorException


def _run_one(workspace, tmp_path, write, code: str, **step_args):
    write("steps/s.py", code)
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"), **step_args)
    run = Experiment(workspace, "contain").submit(Pipeline(workspace, [step]))
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    (step_run,) = run.find_step_run("s")
    return run, step_run, status


@pytest.fixture
def secret(tmp_path) -> Path:
    """A host file outside the workspace that no step may reach."""
    path = tmp_path / "host" / "secret.txt"
    path.parent.mkdir()
    path.write_text("host secret")
    return path


def test_a_link_to_outside_in_outputs_folder_fails_the_step_and_is_not_kept(workspace, write, tmp_path, secret):
    code = f"import os\nos.makedirs('outputs', exist_ok=True)\nos.symlink({str(secret)!r}, 'outputs/leak.txt')\n" \
           "open('outputs/ok.txt', 'w').write('ok')\n"
    run, step_run, status = _run_one(workspace, tmp_path, write, code)
    assert status == "Failed"
    assert step_run.get_details()["error"] == f"./outputs contains a link to outside it (leak.txt -> {secret})"
    assert [n for n in step_run.get_file_names() if n.startswith("outputs/")] == []


def test_outputs_folder_replaced_by_a_link_is_refused(workspace, write, tmp_path, secret):
    code = f"import os\nos.symlink({str(secret.parent)!r}, 'outputs')\n"
    run, step_run, status = _run_one(workspace, tmp_path, write, code)
    assert status == "Failed"
    assert step_run.get_details()["error"] == f"./outputs is a link (outputs -> {secret.parent})"
    assert step_run.get_file_names() == ["azureml-logs/stderr.txt", "azureml-logs/stdout.txt"]


def test_an_output_with_a_link_inside_it_keeps_the_link_and_one_to_outside_fails(workspace, write, tmp_path, secret):
    out = PipelineData("out", datastore=workspace.get_default_datastore())
    inner = ("import os, sys\nd = sys.argv[1]\nos.makedirs(d + '/sub', exist_ok=True)\n"
             "open(d + '/sub/a.txt', 'w').write('a')\nos.symlink('sub/a.txt', d + '/alias')\n")
    run, step_run, status = _run_one(workspace, tmp_path, write, inner, arguments=[out], outputs=[out])
    assert status == "Finished"
    ref = step_run.get_output_data("out")
    folder = workspace._local.layout.datastore_dir(ref.datastore_name) / ref.path_on_datastore
    assert os.readlink(folder / "alias") == "sub/a.txt"
    outer = f"import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\nos.symlink('/dev/zero', sys.argv[1] + '/z')\n"
    out2 = PipelineData("out", datastore=workspace.get_default_datastore())
    run, step_run, status = _run_one(workspace, tmp_path, write, outer, arguments=[out2], outputs=[out2])
    assert status == "Failed"
    assert step_run.get_details()["error"] == "output out contains a link to outside it (z -> /dev/zero)"


def test_a_fifo_in_an_output_fails_the_step_by_name_and_never_hangs(workspace, write, tmp_path):
    out = PipelineData("out", datastore=workspace.get_default_datastore())
    code = "import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\nos.mkfifo(sys.argv[1] + '/pipe')\n"
    run, step_run, status = _run_one(workspace, tmp_path, write, code, arguments=[out], outputs=[out])
    assert status == "Failed"
    assert step_run.get_details()["error"] == "output out contains a FIFO (pipe)"


def test_an_artifact_event_naming_a_host_path_is_refused(workspace, write, tmp_path, secret):
    code = ("import json, os, time\n"
            "line = {'t': time.time(), 'run': os.environ['AZUREML_RUN_ID'], 'kind': 'artifact', "
            f"'name': 'stolen', 'value': {str(secret)!r}}}\n"
            "open(os.environ['AMLOCAL_EVENTS_FILE'], 'a').write(json.dumps(line) + '\\n')\n"
            "line['value'] = '../../../../host/secret.txt'; line['name'] = 'climbed'\n"
            "open(os.environ['AMLOCAL_EVENTS_FILE'], 'a').write(json.dumps(line) + '\\n')\n")
    run, step_run, status = _run_one(workspace, tmp_path, write, code)
    assert status == "Finished"
    assert "stolen" not in step_run.get_file_names()
    assert "climbed" not in step_run.get_file_names()


def test_download_file_of_an_artifact_swapped_for_a_link_is_refused(workspace, write, tmp_path, secret):
    code = "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/m.txt', 'w').write('model')\n"
    run, step_run, status = _run_one(workspace, tmp_path, write, code)
    assert status == "Finished"
    kept = Path(step_run._record().run_dir) / "artifacts" / "outputs" / "m.txt"
    kept.unlink()
    kept.symlink_to(secret)  # what a later step writing the same folder could do
    with pytest.raises(UserErrorException, match=r"contains a link to outside it"):
        step_run.download_file("outputs/m.txt", str(tmp_path / "got.txt"))
    assert not (tmp_path / "got.txt").exists()


def test_upload_mode_output_never_writes_through_a_link_in_its_destination(workspace, write, tmp_path):
    ds = workspace.get_default_datastore()
    outside = tmp_path / "host_dir"
    outside.mkdir()
    dest = workspace._local.layout.datastore_dir(ds.name) / "fixed"
    dest.mkdir(parents=True)
    (dest / "sub").symlink_to(outside)  # planted by an earlier step
    out = OutputFileDatasetConfig(name="o", destination=(ds, "fixed")).as_upload()
    code = "import os, sys\nos.makedirs(sys.argv[1] + '/sub', exist_ok=True)\nopen(sys.argv[1] + '/sub/x', 'w').write('x')\n"
    run, step_run, status = _run_one(workspace, tmp_path, write, code, arguments=[out], outputs=[out])
    assert status == "Failed"
    assert step_run.get_details()["error"] == f"output o contains a link to outside it (sub -> {outside})"
    assert list(outside.iterdir()) == []


def test_a_download_input_with_a_link_to_outside_fails_before_the_step_reads_it(workspace, write, tmp_path, secret):
    ds = workspace.get_default_datastore()
    folder = workspace._local.layout.datastore_dir(ds.name) / "raw"
    folder.mkdir(parents=True)
    (folder / "ok.csv").write_text("1\n")
    (folder / "leak.csv").symlink_to(secret)
    ref = DataReference(ds, "raw", "raw").as_download()
    run, step_run, status = _run_one(workspace, tmp_path, write, "print('ran')\n", arguments=[ref], inputs=[ref])
    assert status == "Failed"
    assert step_run.get_details()["error"] == f"input raw contains a link to outside it (leak.csv -> {secret})"
    assert step_run.get_stdout_log() == ""


def test_datastore_download_and_upload_never_follow_a_planted_link(workspace, tmp_path, secret):
    ds = workspace.get_default_datastore()
    root = workspace._local.layout.datastore_dir(ds.name)
    (root / "d").mkdir(parents=True)
    (root / "d" / "a.txt").write_text("a")
    (root / "d" / "b.txt").symlink_to(secret)
    with pytest.raises(UserErrorException) as refused:
        ds.download(str(tmp_path / "dl"), prefix="d", show_progress=False)
    assert str(refused.value) == f"download: datastore {ds.name} contains a link to outside it (b.txt -> {secret})"
    assert not (tmp_path / "dl" / "d" / "b.txt").exists()
    (root / "d" / "b.txt").unlink()
    assert ds.download(str(tmp_path / "dl"), prefix="d", show_progress=False) == 1
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (root / "u").mkdir()
    (root / "u" / ".f.txt.amlocal-upload").symlink_to(victim)  # the old fixed temporary name
    src = tmp_path / "f.txt"
    src.write_text("new")
    ds.upload_files([str(src)], relative_root=str(tmp_path), target_path="u", show_progress=False)
    assert (root / "u" / "f.txt").read_text() == "new"
    assert victim.read_text() == "untouched"


def test_path_on_compute_absolute_lands_in_the_working_copy_and_climbing_fails(workspace, write, tmp_path):
    ds = workspace.get_default_datastore()
    (workspace._local.layout.datastore_dir(ds.name) / "raw").mkdir(parents=True)
    (workspace._local.layout.datastore_dir(ds.name) / "raw" / "f.csv").write_text("1\n")
    host_target = tmp_path / "abs_target"
    ref = DataReference(ds, "raw", "raw").as_download(path_on_compute=str(host_target))
    code = "import os, sys\nprint(sys.argv[1].startswith(os.getcwd()), sorted(os.listdir(sys.argv[1])))\n"
    run, step_run, status = _run_one(workspace, tmp_path, write, code, arguments=[ref], inputs=[ref])
    assert status == "Finished"
    assert step_run.get_stdout_log() == "True ['f.csv']\n"
    assert not host_target.exists()  # nothing written at that host path, nothing left behind
    climbing = DataReference(ds, "raw2", "raw").as_download(path_on_compute="../../../../escape")
    run, step_run, status = _run_one(workspace, tmp_path, write, "print('ran')\n", arguments=[climbing], inputs=[climbing])
    assert status == "Failed"
    assert step_run.get_details()["error"].startswith("input raw2: path_on_compute leads to '../")
    assert step_run.get_details()["error"].endswith("outside the step's working copy")


def test_amlocal_logs_of_a_stderr_swapped_for_a_link_prints_one_line(workspace, write, tmp_path, secret):
    code = "print('hello')\n"
    run, step_run, status = _run_one(workspace, tmp_path, write, code)
    stderr = Path(step_run._record().run_dir) / "stderr.txt"
    stderr.unlink()
    stderr.symlink_to(secret)
    done = amlocal("logs", run.id, "s", cwd=tmp_path, env={"AMLOCAL_HOME": str(workspace._local.layout.root)})
    assert done.returncode == 1
    assert "host secret" not in done.stdout + done.stderr
    assert done.stdout == "hello\n"
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "contains a link to outside it (stderr.txt -> " in done.stderr


# ------------------------------------------------------------------ Docker: the real engine
INSPECTED = """
import errno, os, sys, time
print(os.getuid(), os.getgid())
for path in (os.environ["AMLOCAL_STDERR_FILE"], os.environ["AMLOCAL_ARTIFACTS_DIR"]):
    try:
        os.rename(path, path + ".moved")
        print("replaced", path)
    except OSError as exc:
        print(errno.errorcode[exc.errno])
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], "w.txt"), "w").write("w")
time.sleep(3)  # long enough for the test to inspect the container
"""


def _inspect_running(run, timeout: float = 60.0) -> dict:
    """`docker inspect` of the step container of `run` while it runs."""
    import time
    from runner.executors.docker import LABEL_RUN
    from runner.executors.docker_engine import docker_client
    api = docker_client().api
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = api.containers(filters={"label": f"{LABEL_RUN}={run.id}"})
        if found:
            return api.inspect_container(found[0]["Id"])
        time.sleep(0.1)
    raise AssertionError("no container appeared")


def _docker_step(workspace, write, tmp_path):
    write("steps/s.py", INSPECTED)
    out = PipelineData("out", datastore=workspace.get_default_datastore())
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"),
                            arguments=[out], outputs=[out])
    run = Experiment(workspace, "privileges").submit(Pipeline(workspace, [step]))
    info = _inspect_running(run)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Finished"
    (step_run,) = run.find_step_run("s")
    ref = step_run.get_output_data("out")
    written = workspace._local.layout.datastore_dir(ref.datastore_name) / ref.path_on_datastore / "w.txt"
    return info, step_run, written


@pytest.mark.docker
def test_a_container_has_no_capabilities_no_new_privileges_a_pids_limit_and_never_uid_0(
        docker_workspace, write, tmp_path):
    assert docker_workspace._local.layout.root.stat().st_uid == 0  # a root-owned workspace
    info, step_run, written = _docker_step(docker_workspace, write, tmp_path)
    host = info["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert host["CapAdd"] is None
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["PidsLimit"] == 4096
    assert host["Privileged"] is False
    assert info["Config"]["User"] == "65532:65532"
    lines = step_run.get_stdout_log().splitlines()
    assert lines[0] == "65532 65532"
    assert lines[1:3] == ["EACCES", "EACCES"]  # its stderr and artifacts folder cannot be replaced
    assert written.read_text() == "w"
    assert (written.stat().st_uid, written.stat().st_gid) == (0, 0)  # handed back to the owner


@pytest.mark.docker
def test_a_uid_1000_workspace_runs_its_containers_as_uid_1000(docker_workspace, write, tmp_path):
    root = docker_workspace._local.layout.root
    for folder, dirs, files in os.walk(root):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, 1000, 1000)
    info, step_run, written = _docker_step(docker_workspace, write, tmp_path)
    assert info["Config"]["User"] == "1000:1000"
    assert info["HostConfig"]["CapDrop"] == ["ALL"]
    assert step_run.get_stdout_log().splitlines()[0] == "1000 1000"
    assert written.stat().st_uid == 1000
