"""Watch mode in Docker: the container of the step a save reruns is created while the burst
settles, started only when it is exactly the one the launch would create, and nothing made
ahead outlives the watcher. Every test uses a real Docker engine (marker `docker`)."""
from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import docker.errors
import pytest

from runner.executors import docker as docker_executor
from runner.executors.base import Mount, StepInvocation
from runner.executors.docker import LABEL_WORKSPACE, PIDS_LIMIT, DockerExecutor
from runner.executors.docker_engine import docker_client
from runner.executors.precreated import precreated_step_runs
from runner.sdk import Experiment
from runner.watch.watcher import PipelineWatcher
from store.layout import StepRunFiles
from store.runs import get_step_runs, list_pipeline_runs
from tests.test_reuse import TRAIN, build, project  # noqa: F401  (the fixture)

pytestmark = pytest.mark.docker


def _containers(layout) -> list:
    return docker_client().api.containers(all=True, filters={"label": f"{LABEL_WORKSPACE}={layout.root}"})


def _invocation(layout, step_run_id: str, message: str) -> StepInvocation:
    files = StepRunFiles(layout.runs_dir / "run-1" / step_run_id)
    files.workdir.mkdir(parents=True)
    for path in (files.stdout, files.stderr):
        path.touch()
    mounts = (Mount(files.workdir, False), Mount(files.stdout, False), Mount(files.stderr, False))
    return StepInvocation(step_run_id, "run-1", ("python3", "-c", f"print({message!r})"),
                          {"HOME": "/tmp"}, files.workdir, files, mounts)


def test_start_takes_the_container_made_ahead_only_when_it_is_the_same(workspace, docker_image):
    layout = workspace._local.layout
    executor = DockerExecutor(layout, docker_image)
    same = _invocation(layout, "step-same", "same")
    assert executor.precreate(same) is True
    assert precreated_step_runs() == ["step-same"]
    made = _containers(layout)[0]
    config = docker_client().api.inspect_container(made["Id"])
    assert config["State"]["Status"] == "created"
    assert config["HostConfig"]["CapDrop"] == ["ALL"]
    assert config["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert config["HostConfig"]["PidsLimit"] == PIDS_LIMIT
    assert config["Config"]["User"] not in ("", "0", "0:0")
    step = executor.start(same)
    assert step.container_id == made["Id"]
    assert step.wait(30).exit_code == 0
    step.close()
    assert same.files.stdout.read_text() == "same\n"

    other = _invocation(layout, "step-other", "predicted")
    assert executor.precreate(other) is True
    ahead = _containers(layout)[0]["Id"]
    changed = StepInvocation(other.step_run_id, other.pipeline_run_id,
                             ("python3", "-c", "print('launched')"), other.env, other.cwd,
                             other.files, other.mounts)
    step = executor.start(changed)
    assert step.container_id != ahead
    with pytest.raises(docker.errors.NotFound):
        docker_client().api.inspect_container(ahead)
    assert step.wait(30).exit_code == 0
    step.close()
    assert other.files.stdout.read_text() == "launched\n"

    unused = _invocation(layout, "step-unused", "never")
    assert executor.precreate(unused) is True
    assert executor.discard_precreated("step-unused") is True
    assert executor.discard_precreated("step-unused") is False
    assert _containers(layout) == []
    assert precreated_step_runs() == []


@pytest.fixture
def docker_watch(docker_workspace, project, monkeypatch):  # noqa: F811
    """A first Docker run of test_reuse's pipeline, then a watcher of it in a thread; yields
    (workspace, project folder, the start calls' (step run id, made ahead) pairs)."""
    ws = docker_workspace
    (project / "pipeline.py").write_text("# watched; not evaluated unless it changes\n")
    first = Experiment(ws, "watched").submit(build(ws, project))
    first.wait_for_completion(show_output=False)
    taken: list[tuple[str, bool]] = []
    real_take = docker_executor.take_precreated

    def take(api, step_run_id, args):
        found = real_take(api, step_run_id, args)
        taken.append((step_run_id, found is not None))
        return found
    monkeypatch.setattr(docker_executor, "take_precreated", take)
    ready = threading.Event()
    watcher = PipelineWatcher(ws._local.layout, project / "pipeline.py", first.id, progress=None,
                              say=lambda text: ready.set() if text.startswith("watching") else None)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    assert ready.wait(30)
    yield ws, project, taken
    watcher.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert _containers(ws._local.layout) == []
    assert precreated_step_runs() == []


def _next_run(ws, count: int):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = list_pipeline_runs(ws._local.conn)
        if len(runs) > count and runs[0].status in ("Finished", "Failed", "Canceled"):
            return runs[0]
        time.sleep(0.05)
    raise AssertionError("the save never ran")


def test_a_save_starts_the_container_made_ahead_for_the_step_it_reruns(docker_watch):
    ws, root, taken = docker_watch
    (root / "train" / "train.py").write_text(textwrap.dedent(TRAIN).replace("train ran", "train ran again"))
    run = _next_run(ws, 1)
    assert run.status == "Finished"
    steps = {s.name: s for s in get_step_runs(ws._local.conn, run.id)}
    # train's output is what it was: report is reused once train has run
    assert {name: s.decision for name, s in steps.items()} == {"prep": "reused", "train": "run",
                                                               "report": "reused"}
    assert taken == [(steps["train"].id, True)]
    assert "train ran again" in Path(steps["train"].run_dir, "stdout.txt").read_text()


def test_a_container_made_ahead_for_a_step_that_is_reused_goes_with_its_folders(docker_watch):
    ws, root, taken = docker_watch
    script = root / "train" / "train.py"
    original = script.read_text()
    script.write_text(original.replace("train ran", "train ran again"))
    _next_run(ws, 1)
    taken.clear()
    script.write_text(original)  # the first run's train: reused, not run
    run = _next_run(ws, 2)
    steps = {s.name: s for s in get_step_runs(ws._local.conn, run.id)}
    assert {name: s.decision for name, s in steps.items()} == {"prep": "reused", "train": "reused",
                                                               "report": "reused"}
    assert taken == []
    layout = ws._local.layout
    deadline = time.monotonic() + 10
    while _containers(layout) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _containers(layout) == []
    train = StepRunFiles(Path(steps["train"].run_dir))
    assert [p.exists() for p in (train.stdout, train.registry_view, train.workdir)] == [False] * 3
    made_outputs = layout.datastore_dir("workspaceblobstore") / "azureml" / steps["train"].id
    assert made_outputs.exists() is False
