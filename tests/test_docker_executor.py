"""Steps in Docker containers: the same contract as local processes, isolation, limits, faults.

Every test here uses a real Docker engine (marker `docker`).
"""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from runner.executors.docker import LABEL_RUN, WORKSPACE_IN_CONTAINER
from runner.executors.docker_engine import docker_client
from runner.sdk import (Environment, Experiment, Pipeline, PipelineData, PipelineParameter,
                        PythonScriptStep, RunConfiguration)
from runner.step_runtime.exceptions import ActivityFailedException
from store.runs import get_pipeline_run

pytestmark = pytest.mark.docker

PROBE = """
    import json, os, sys
    from azureml.core import Run
    run = Run.get_context()
    seen = {"argv": sys.argv[1:], "cwd_name": os.path.basename(os.getcwd()),
            "env": {k: v for k, v in os.environ.items() if k.startswith(("AZUREML_", "AML_PARAMETER_"))},
            "run_id": run.id, "input_files": sorted(os.listdir(sys.argv[2])),
            "snapshot_files": sorted(os.listdir("."))}
    out = os.environ["AZUREML_DATAREFERENCE_probe_out"]
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "seen.json"), "w").write(json.dumps(seen))
    run.log("accuracy", 0.5); run.log_list("curve", [1, 2]); run.parent.log("from_step", 1)
    os.makedirs("outputs", exist_ok=True); open("outputs/model.txt", "w").write("m")
"""


def _containers(run_id: str) -> list:
    return docker_client().api.containers(all=True, filters={"label": f"{LABEL_RUN}={run_id}"})


def _probe_run(workspace, tmp_path, executor: str, monkeypatch) -> dict:
    monkeypatch.setenv("AMLOCAL_EXECUTOR", executor)
    ds = workspace.get_default_datastore()
    raw = ds.path("raw", data_reference_name="raw_in")
    out = PipelineData("probe_out", datastore=ds)
    lr = PipelineParameter("learning_rate", 0.1)
    step = PythonScriptStep("probe.py", name="probe", source_directory=str(tmp_path / "steps"),
                            arguments=["--in", raw, "--out", out, "--lr", lr],
                            inputs=[raw], outputs=[out], params={"mode": "fast"})
    run = Experiment(workspace, "parity").submit(Pipeline(workspace, [step]),
                                                 pipeline_parameters={"learning_rate": 0.3})
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("probe")
    assert step_run._record().executor == executor
    ref = step_run.get_output_data("probe_out")
    seen = json.loads((workspace._local.layout.datastore_dir("workspaceblobstore")
                       / ref.path_on_datastore / "seen.json").read_text())
    root = str(workspace._local.layout.root)
    text = json.dumps(seen).replace(WORKSPACE_IN_CONTAINER, "<ws>").replace(root, "<ws>")
    text = text.replace(step_run.id, "<step run>").replace(run.id, "<run>")
    return {"seen": json.loads(text), "metrics": step_run.get_metrics(),
            "parent_metrics": run.get_metrics(),
            # Only Docker builds (or looks up) an image, so only it keeps a build log.
            "files": [f for f in step_run.get_file_names() if "image_build" not in f]}


def test_a_probe_sees_the_same_contract_in_docker_as_in_a_local_process(docker_workspace, write,
                                                                         tmp_path, monkeypatch):
    write("steps/probe.py", PROBE)
    write("steps/helper.py", "X = 1\n")
    write("data/raw/a.txt", "a")
    docker_workspace.get_default_datastore().upload(str(tmp_path / "data" / "raw"), "raw",
                                                    show_progress=False)
    local = _probe_run(docker_workspace, tmp_path, "local", monkeypatch)
    in_docker = _probe_run(docker_workspace, tmp_path, "docker", monkeypatch)
    assert in_docker == local
    assert local["seen"]["argv"] == ["--in", "<ws>/datastores/workspaceblobstore/raw", "--out",
                                     "<ws>/datastores/workspaceblobstore/azureml/<step run>/probe_out",
                                     "--lr", "0.3"]
    assert local["seen"]["input_files"] == ["a.txt"]
    assert local["seen"]["env"]["AML_PARAMETER_mode"] == "fast"
    assert local["metrics"] == {"accuracy": 0.5, "curve": [1, 2]}
    assert "outputs/model.txt" in local["files"]


def test_inputs_are_read_only_and_a_write_fails_the_step_with_that_reason(docker_workspace, write, tmp_path):
    write("steps/w.py", """
        import os, sys
        open(os.path.join(sys.argv[1], "a.txt"), "w").write("overwritten")
    """)
    write("data/raw/a.txt", "original")
    ds = docker_workspace.get_default_datastore()
    ds.upload(str(tmp_path / "data" / "raw"), "raw", show_progress=False)
    raw = ds.path("raw", data_reference_name="raw_in")
    step = PythonScriptStep("w.py", name="w", source_directory=str(tmp_path / "steps"),
                            arguments=[raw], inputs=[raw])
    run = Experiment(docker_workspace, "ro").submit(Pipeline(docker_workspace, [step]))
    with pytest.raises(ActivityFailedException, match=r"step w: exit code 1: .*Read-only file system"):
        run.wait_for_completion(show_output=False)
    root = docker_workspace._local.layout.datastore_dir("workspaceblobstore")
    assert (root / "raw" / "a.txt").read_text() == "original"


def test_outputs_belong_to_the_workspace_owner(docker_workspace, write, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the workspace to another user")  # as the owner, uid is ours
    write("steps/o.py", """
        import os, sys
        os.makedirs(sys.argv[1], exist_ok=True)
        open(os.path.join(sys.argv[1], "x.txt"), "w").write(str(os.getuid()))
    """)
    root = docker_workspace._local.layout.root
    for folder, dirs, files in os.walk(root):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, 4321, 4321)
    out = PipelineData("out")
    step = PythonScriptStep("o.py", name="o", source_directory=str(tmp_path / "steps"),
                            arguments=[out], outputs=[out])
    run = Experiment(docker_workspace, "owner").submit(Pipeline(docker_workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    ref = run.find_step_run("o")[0].get_output_data("out")
    written = docker_workspace._local.layout.datastore_dir("workspaceblobstore") / ref.path_on_datastore / "x.txt"
    assert written.read_text() == "4321"
    assert (written.stat().st_uid, written.stat().st_gid) == (4321, 4321)


def _limited(tmp_path, name: str, docker_arguments=(), max_seconds=None) -> PythonScriptStep:
    config = RunConfiguration()
    config.environment.docker.arguments = list(docker_arguments)
    config.max_run_duration_seconds = max_seconds
    return PythonScriptStep(f"{name}.py", name=name, source_directory=str(tmp_path / "steps"),
                            runconfig=config)


def test_a_step_over_its_memory_limit_fails_as_out_of_memory(docker_workspace, write, tmp_path):
    write("steps/hog.py", """
        from azureml.core import Run
        Run.get_context().log("rows_read", 1000)  # logged before the kernel kills the step
        print("allocating", flush=True)
        blocks = []
        for _ in range(100):
            blocks.append(bytearray(16 * 2**20))  # 16 MiB at a time, up to 1.6 GiB
    """)
    step = _limited(tmp_path, "hog", ["--memory", "64m"])
    run = Experiment(docker_workspace, "oom").submit(Pipeline(docker_workspace, [step]))
    with pytest.raises(ActivityFailedException, match=r"step hog: out of memory \(limit 64 MiB\)"):
        run.wait_for_completion(show_output=False)
    assert _containers(run.id) == []
    (hog,) = run.find_step_run("hog")
    assert hog.get_metrics() == {"rows_read": 1000} and hog.get_stdout_log() == "allocating\n"


def test_a_step_past_max_run_duration_is_stopped_as_timed_out(docker_workspace, write, tmp_path):
    write("steps/slow.py", "import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    step = _limited(tmp_path, "slow", max_seconds=1)
    started = time.monotonic()
    run = Experiment(docker_workspace, "timeout").submit(Pipeline(docker_workspace, [step]))
    with pytest.raises(ActivityFailedException, match=r"step slow: timed out after 1 s"):
        run.wait_for_completion(show_output=False)
    assert time.monotonic() - started < 30  # SIGTERM reached the script: no 10 s kill wait
    assert run.find_step_run("slow")[0].get_stdout_log() == "working\n"
    assert _containers(run.id) == []


def _wait_running(run, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = list(run.get_steps())
        if steps and steps[0].get_status() == "Running" and steps[0].get_stdout_log():
            return steps[0]
        time.sleep(0.05)
    raise AssertionError("the step never started")


def test_cancel_mid_step_stops_and_removes_its_container(docker_workspace, write, tmp_path):
    write("steps/slow.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    step = PythonScriptStep("slow.py", name="slow", source_directory=str(tmp_path / "steps"))
    run = Experiment(docker_workspace, "cancel").submit(Pipeline(docker_workspace, [step]))
    _wait_running(run)
    assert len(_containers(run.id)) == 1
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    assert _containers(run.id) == []


def test_a_killed_runners_container_is_removed_when_the_next_runner_starts(docker_workspace, write,
                                                                           tmp_path):
    write("steps/slow.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    write("steps/quick.py", "print('quick')\n")
    slow = PythonScriptStep("slow.py", name="slow", source_directory=str(tmp_path / "steps"))
    first = Experiment(docker_workspace, "orphans").submit(Pipeline(docker_workspace, [slow]))
    _wait_running(first)
    os.kill(get_pipeline_run(docker_workspace._local.conn, first.id).runner_pid, signal.SIGKILL)
    time.sleep(0.5)
    assert len(_containers(first.id)) == 1  # the container outlived its runner
    quick = PythonScriptStep("quick.py", name="quick", source_directory=str(tmp_path / "steps"))
    second = Experiment(docker_workspace, "orphans").submit(Pipeline(docker_workspace, [quick]))
    assert second.wait_for_completion(show_output=False) == "Finished"
    assert _containers(first.id) == []
    runner_log = (docker_workspace._local.layout.pipeline_run_dir(second.id) / "runner.log").read_text()
    assert "removed 1 container(s) left by dead runners" in runner_log
    assert first.get_status() == "Failed"  # and the lost run says so


def test_fifty_thousand_log_lines_are_all_kept(docker_workspace, write, tmp_path):
    write("steps/chatty.py", """
        import sys
        for i in range(50000):
            print(f"line {i}")
        print("the end", file=sys.stderr)
    """)
    step = PythonScriptStep("chatty.py", name="chatty", source_directory=str(tmp_path / "steps"))
    run = Experiment(docker_workspace, "logs").submit(Pipeline(docker_workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    lines = run.find_step_run("chatty")[0].get_stdout_log().splitlines()
    assert lines == [f"line {i}" for i in range(50000)]
    assert run.find_step_run("chatty")[0].get_stderr_log() == "the end\n"


def test_an_environment_image_is_built_once_and_reused_by_later_runs(docker_workspace, write, tmp_path):
    write("steps/uses_six.py", "import six\nprint('six', six.__version__)\n")
    env = Environment("with-six")
    env.python.conda_dependencies.add_pip_package("six==1.16.0")
    config = RunConfiguration()
    config.environment = env

    def run_once():
        step = PythonScriptStep("uses_six.py", name="six", source_directory=str(tmp_path / "steps"),
                                runconfig=config, allow_reuse=False)  # run it: check the image
        run = Experiment(docker_workspace, "env").submit(Pipeline(docker_workspace, [step]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        (step_run,) = run.find_step_run("six")
        assert step_run.get_stdout_log() == "six 1.16.0\n"
        log = docker_workspace._local.layout.step_run_dir(run.id, step_run.id) / "preparation.txt"
        return step_run, log.read_text()

    first, first_log = run_once()
    second, second_log = run_once()
    image = first.get_properties()["amlocal.image"]
    assert image.startswith("amlocal-env:")
    assert second.get_properties()["amlocal.image_id"] == first.get_properties()["amlocal.image_id"]
    assert "building image" in first_log or "built before" in first_log  # built by an earlier test run
    assert f"using image {image} built before" in second_log and "building" not in second_log
    assert "azureml-logs/20_image_build_log.txt" in second.get_file_names()


def test_a_base_image_that_is_missing_and_not_pullable_fails_the_step_naming_the_fix(
        docker_workspace, write, tmp_path, monkeypatch):
    monkeypatch.setenv("AMLOCAL_BASE_IMAGE", "amlocal-test/does-not-exist:1")
    write("steps/a.py", "print('a')\n")
    step = PythonScriptStep("a.py", name="a", source_directory=str(tmp_path / "steps"))
    run = Experiment(docker_workspace, "noimage").submit(Pipeline(docker_workspace, [step]))
    with pytest.raises(ActivityFailedException, match=r"step a: image amlocal-test/does-not-exist:1 "
                                                      r"is not on this machine and could not be pulled"):
        run.wait_for_completion(show_output=False)
    assert "AMLOCAL_BASE_IMAGE" in run.find_step_run("a")[0].get_details()["error"]


def test_the_numpy_sample_runs_in_its_own_image_through_the_cli(tmp_path, docker_image):
    import shutil
    from tests.conftest import REPO, amlocal
    for name in ("numpy_stats", "compare_models"):
        shutil.copytree(REPO / "sample_projects" / name, tmp_path / name)
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal"), "AMLOCAL_BASE_IMAGE": docker_image}
    done = amlocal("run", "--executor", "docker", str(tmp_path / "numpy_stats" / "pipeline.py"),
                   cwd=tmp_path, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "amlocal: steps run in Docker containers (engine" in done.stdout
    assert "[describe] numpy 2.2.6" in done.stdout
    assert "[describe] houses.csv y: mean" in done.stdout
    show = amlocal("show", "latest", cwd=tmp_path, env=env).stdout
    assert "docker" in show.split("describe", 1)[1].splitlines()[0]  # the executor column


def test_warm_containers_wait_for_a_free_node_so_max_nodes_still_bounds_scripts(docker_workspace,
                                                                              write, tmp_path):
    from runner.sdk import AmlCompute, ComputeTarget
    write("steps/s.py", "import time\nprint(time.time()); time.sleep(0.4); print(time.time())\n")
    ComputeTarget.create(docker_workspace, "one-node", AmlCompute.provisioning_configuration(max_nodes=1))
    steps = [PythonScriptStep("s.py", name=f"s{i}", source_directory=str(tmp_path / "steps"),
                              compute_target="one-node") for i in range(3)]
    run = Experiment(docker_workspace, "warm").submit(Pipeline(docker_workspace, steps))
    assert run.wait_for_completion(show_output=False) == "Finished"
    spans = sorted(tuple(map(float, s.get_stdout_log().split())) for s in run.get_steps())
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end  # a warm container never runs its script before a node is free
    assert _containers(run.id) == []


def test_the_next_wave_of_warm_containers_starts_side_by_side(docker_workspace, write, tmp_path):
    """With every node busy, the next ready steps' containers start together once the running
    ones are up: none waits for another's start-up, so each is ready when a node frees."""
    from runner.sdk import AmlCompute, ComputeTarget
    write("steps/s.py", "import time\ntime.sleep(3)\n")
    ComputeTarget.create(docker_workspace, "two", AmlCompute.provisioning_configuration(max_nodes=2))
    steps = [PythonScriptStep("s.py", name=f"s{i}", source_directory=str(tmp_path / "steps"),
                              compute_target="two", allow_reuse=False) for i in range(4)]
    run = Experiment(docker_workspace, "warm-wave").submit(Pipeline(docker_workspace, steps))
    assert run.wait_for_completion(show_output=False) == "Finished"
    phases = {s.name: dict(s._record().phases) for s in run.get_steps()}
    warm = [name for name, p in phases.items() if "waiting" in p]
    assert len(warm) == 2  # two ran at once, two started warm and waited for a node
    # both warm containers began starting before either of them was up and waiting
    assert max(phases[n]["starting"] for n in warm) < min(phases[n]["waiting"] for n in warm)


def test_cancel_while_a_warm_container_waits_for_a_node_removes_it(docker_workspace, write, tmp_path):
    from runner.sdk import AmlCompute, ComputeTarget
    write("steps/slow.py", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    ComputeTarget.create(docker_workspace, "one-node", AmlCompute.provisioning_configuration(max_nodes=1))
    steps = [PythonScriptStep("slow.py", name=f"s{i}", source_directory=str(tmp_path / "steps"),
                              compute_target="one-node") for i in range(2)]
    run = Experiment(docker_workspace, "warm-cancel").submit(Pipeline(docker_workspace, steps))
    deadline = time.monotonic() + 60
    while len(_containers(run.id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_containers(run.id)) == 2  # one running, one warm and waiting
    statuses = sorted(s.get_status() for s in run.get_steps())
    assert statuses in (["Queued", "Running"], ["Preparing", "Running"])
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    assert _containers(run.id) == []
    assert all(s.get_stdout_log() in ("up\n", "") for s in run.get_steps())


def test_a_compute_target_tagged_network_none_cuts_its_steps_off_the_network(docker_workspace,
                                                                           write, tmp_path):
    from runner.sdk import AmlCompute, ComputeTarget
    write("steps/net.py", "import os\nprint(' '.join(sorted(os.listdir('/sys/class/net'))))\n")
    ComputeTarget.create(docker_workspace, "offline", AmlCompute.provisioning_configuration(
        max_nodes=1, tags={"amlocal.network": "none"}))
    offline = PythonScriptStep("net.py", name="offline", source_directory=str(tmp_path / "steps"),
                               compute_target="offline")
    online = PythonScriptStep("net.py", name="online", source_directory=str(tmp_path / "steps"))
    run = Experiment(docker_workspace, "network").submit(Pipeline(docker_workspace, [offline, online]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert run.find_step_run("offline")[0].get_stdout_log() == "lo\n"
    assert "eth0" in run.find_step_run("online")[0].get_stdout_log()


def test_a_rerun_keeps_the_base_image_and_script_of_the_run_it_repeats(docker_workspace, write,
                                                                        tmp_path, monkeypatch):
    """The dashboard's `r` and watch reruns start in a process that may not carry the
    $AMLOCAL_BASE_IMAGE the first run was submitted with: they still use that run's image
    (the user sees a rerun that finishes, not "image python:3.11-slim is not on this machine"),
    unless an image is chosen explicitly."""
    from runner.client import Client, ScopeDefaults, submission_scope
    image = os.environ["AMLOCAL_BASE_IMAGE"]
    write("steps/hello.py", "print('hello')\n")
    step = PythonScriptStep("hello.py", name="hello", source_directory=str(tmp_path / "steps"),
                            allow_reuse=False)
    with submission_scope(ScopeDefaults(script=tmp_path / "pipeline.py")):
        first = Experiment(docker_workspace, "rerun-image").submit(Pipeline(docker_workspace, [step]))
    assert first.wait_for_completion(show_output=False) == "Finished"
    monkeypatch.delenv("AMLOCAL_BASE_IMAGE")
    local = docker_workspace._local
    again = Client(local).rerun(first.id).run_id
    deadline = time.monotonic() + 60
    while get_pipeline_run(local.conn, again).status not in ("Finished", "Failed", "Canceled"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    row = get_pipeline_run(local.conn, again)
    assert row.status == "Finished", row.error
    assert (row.base_image, row.script) == (image, str(tmp_path / "pipeline.py"))
    assert not any(k.startswith("amlocal.") for k in row.properties)  # options are not properties
    monkeypatch.setenv("AMLOCAL_BASE_IMAGE", "chosen/explicitly:1")  # an explicit choice wins
    chosen = Client(local).rerun(first.id, start=False).run_id
    assert get_pipeline_run(local.conn, chosen).base_image == "chosen/explicitly:1"
