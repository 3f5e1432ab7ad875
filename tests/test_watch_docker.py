"""Watch mode in Docker: the container of the step a save reruns is created and started, held
at its gate, while the burst settles; its step runs in it only when it is exactly the one the
launch would create, and nothing made ahead outlives the watcher (test_watch_ahead: what is
made before the save). Every test uses a real Docker engine (marker `docker`)."""
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
from store.key_vault import secrets_dir, set_secrets
from store.layout import StepRunFiles
from store.runs import get_step_runs, list_pipeline_runs
from tests.test_reuse import TRAIN, build, project  # noqa: F401  (the fixture)

pytestmark = pytest.mark.docker


def _containers(layout) -> list:
    return docker_client().api.containers(all=True, filters={"label": f"{LABEL_WORKSPACE}={layout.root}"})


def _invocation(layout, step_run_id: str, message: str, reads_secrets: DockerExecutor | None = None
                ) -> StepInvocation:
    """A step that prints `message` (and, given the executor, the names in its secrets mount)."""
    files = StepRunFiles(layout.runs_dir / "run-1" / step_run_id)
    files.workdir.mkdir(parents=True)
    for path in (files.stdout, files.stderr):
        path.touch()
    mounts = [Mount(files.workdir, False), Mount(files.stdout, False), Mount(files.stderr, False)]
    code = f"print({message!r})"
    if reads_secrets:
        folder = secrets_dir(layout)
        mounts.append(Mount(folder, True))
        code += f"; import os; print(sorted(os.listdir({reads_secrets.map_path(folder)!r})))"
    return StepInvocation(step_run_id, "run-1", ("python3", "-c", code), {"HOME": "/tmp"},
                          files.workdir, files, tuple(mounts))


def _processes(container_id: str) -> list[str]:
    """The commands running in the container (`docker top`)."""
    top = docker_client().api.top(container_id)
    column = top["Titles"].index("CMD")
    return [p[column] for p in top["Processes"]]


def test_a_container_started_ahead_runs_its_step_only_at_the_start_and_only_when_the_same(
        workspace, docker_image):
    layout = workspace._local.layout
    executor = DockerExecutor(layout, docker_image)
    set_secrets(layout, {"token": "s3cret"})
    same = _invocation(layout, "step-same", "same", reads_secrets=executor)
    assert executor.start_ahead(same) is True
    assert precreated_step_runs() == ["step-same"]
    made = _containers(layout)[0]
    config = docker_client().api.inspect_container(made["Id"])
    assert config["State"]["Running"] is True
    assert config["HostConfig"]["CapDrop"] == ["ALL"]
    assert config["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert config["HostConfig"]["PidsLimit"] == PIDS_LIMIT
    assert config["Config"]["User"] not in ("", "0", "0:0")
    # up, but nothing of the step: the init and the shell waiting at the gate
    assert [cmd.split()[0] for cmd in _processes(made["Id"])] == ["/sbin/docker-init", "sh"]
    assert same.files.stdout.read_text() == ""
    step = executor.start(same)
    assert step.container_id == made["Id"]
    assert step.wait(30).exit_code == 0
    step.close()
    # the secrets copy its start made again is the folder the container had mounted
    assert same.files.stdout.read_text() == "same\n['.lock', 'secrets.json']\n"
    assert same.files.gate.exists() is False

    other = _invocation(layout, "step-other", "predicted")
    assert executor.start_ahead(other) is True
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
    assert executor.start_ahead(unused) is True
    assert executor.discard_precreated("step-unused") is True
    assert executor.discard_precreated("step-unused") is False
    assert _containers(layout) == []
    assert precreated_step_runs() == []
    assert (unused.files.stdout.read_text(), unused.files.gate.exists()) == ("", False)


def _one_started_ahead(workspace, image: str, step_run_id: str, message: str
                       ) -> tuple[DockerExecutor, StepInvocation, str]:
    """(executor, invocation, container id) of a step printing `message`, started ahead."""
    layout = workspace._local.layout
    executor = DockerExecutor(layout, image)
    invocation = _invocation(layout, step_run_id, message)
    assert executor.start_ahead(invocation) is True
    return executor, invocation, _containers(layout)[0]["Id"]


def test_a_container_started_ahead_and_removed_meanwhile_is_made_again_at_the_start(
        workspace, docker_image):
    executor, gone, ahead = _one_started_ahead(workspace, docker_image, "step-gone", "made again")
    docker_client().api.remove_container(ahead, force=True)  # as `docker rm -f` would
    step = executor.start(gone)
    assert step.container_id != ahead
    assert step.wait(30).exit_code == 0
    step.close()
    assert gone.files.stdout.read_text() == "made again\n"
    assert precreated_step_runs() == []


def test_a_held_start_takes_the_container_started_ahead_and_runs_it_at_its_release(
        workspace, docker_image):
    executor, held, ahead = _one_started_ahead(workspace, docker_image, "step-held", "released")
    step = executor.start(held, held=True)  # a compute target's node is not free yet
    assert step.container_id == ahead
    assert step.wait(0.5) is None and held.files.stdout.read_text() == ""
    step.release()
    assert step.wait(30).exit_code == 0
    step.close()
    assert held.files.stdout.read_text() == "released\n"


def test_a_reaper_leaves_a_container_made_ahead_alone_while_its_maker_runs(workspace, docker_image):
    layout = workspace._local.layout
    executor = DockerExecutor(layout, docker_image)
    assert executor.start_ahead(_invocation(layout, "step-ahead", "ahead"), start=False) is True
    # its run is recorded nowhere (as for every rerun's container made ahead), yet it stays
    assert executor.reap_orphans(lambda run_id: False) == []
    docker_client().api.create_container(docker_image, ["true"], labels={
        LABEL_WORKSPACE: str(layout.root), docker_executor.LABEL_RUN: "run-gone",
        docker_executor.LABEL_STEP_RUN: "step-gone",
        docker_executor.LABEL_MADE_BY: "1:1.0"})  # pid 1, but not the process that made it
    assert executor.reap_orphans(lambda run_id: False) == ["step-gone"]
    assert executor.discard_precreated("step-ahead") is True
    assert _containers(layout) == []


@pytest.fixture
def docker_watch(docker_workspace, project, monkeypatch):  # noqa: F811
    """A first Docker run of test_reuse's pipeline, then a watcher of it in a thread, settled
    (what it makes ahead when watching begins is made); yields (workspace, project folder,
    the start calls' (step run id, made ahead) pairs, the watcher)."""
    ws = docker_workspace
    (project / "pipeline.py").write_text("# watched; not evaluated unless it changes\n")
    first = Experiment(ws, "watched").submit(build(ws, project))
    first.wait_for_completion(show_output=False)
    taken: list[tuple[str, bool]] = []
    real_take = docker_executor.take_precreated

    def take(api, step_run_id, args, identity):
        found = real_take(api, step_run_id, args, identity)
        taken.append((step_run_id, found is not None))
        return found
    monkeypatch.setattr(docker_executor, "take_precreated", take)
    ready = threading.Event()
    watcher = PipelineWatcher(ws._local.layout, project / "pipeline.py", first.id, progress=None,
                              say=lambda text: ready.set() if text.startswith("watching") else None)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    assert ready.wait(30)
    assert watcher.wait_idle(30)
    yield ws, project, taken, watcher
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
    ws, root, taken, _ = docker_watch
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
    ws, root, taken, watcher = docker_watch
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
    assert watcher.wait_idle(30)  # those made for the next save stand ready; none for this one
    assert [c for c in _containers(layout)
            if c["Labels"][docker_executor.LABEL_STEP_RUN] == steps["train"].id] == []
    train = StepRunFiles(Path(steps["train"].run_dir))
    assert [p.exists() for p in (train.stdout, train.registry_view, train.workdir)] == [False] * 3
    made_outputs = layout.datastore_dir("workspaceblobstore") / "azureml" / steps["train"].id
    assert made_outputs.exists() is False
