"""Watch mode in Docker, ahead of the save: when watching begins each step's container is
created; after a run the saved step's container is up, held at its gate, so the next save of
it only lets the step run; a folder made again under a container made ahead is never used.
Every test uses a real Docker engine (marker `docker`)."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from runner.executors.docker import LABEL_RUN, LABEL_STEP_RUN
from runner.executors.docker_engine import docker_client
from store.layout import StepRunFiles
from store.runs import get_step_runs
from tests.test_reuse import TRAIN, project  # noqa: F401  (the fixture)
from tests.test_watch_docker import _containers, _next_run, _processes, docker_watch  # noqa: F401

pytestmark = pytest.mark.docker


def _made_ahead(layout) -> dict[str, tuple[str, str, str]]:
    """Containers made ahead, by step run id: (container id, state, reserved run id)."""
    return {c["Labels"][LABEL_STEP_RUN]: (c["Id"], c["State"], c["Labels"][LABEL_RUN])
            for c in _containers(layout)}


def _save_train(root: Path, text: str) -> None:
    (root / "train" / "train.py").write_text(textwrap.dedent(TRAIN).replace("train ran", text))


def test_watching_begins_with_each_steps_container_created_and_a_save_starts_the_one_it_needs(
        docker_watch):  # noqa: F811
    ws, root, taken, watcher = docker_watch
    layout = ws._local.layout
    ahead = _made_ahead(layout)
    # one per step's folder (prep, train, report), created only, for three reserved reruns
    assert sorted(state for _, state, _ in ahead.values()) == ["created"] * 3
    assert len({run for _, _, run in ahead.values()}) == 3
    _save_train(root, "train ran again")
    run = _next_run(ws, 1)
    steps = {s.name: s for s in get_step_runs(ws._local.conn, run.id)}
    assert run.status == "Finished"
    assert steps["train"].id in ahead and ahead[steps["train"].id][2] == run.id
    assert taken == [(steps["train"].id, True)]
    assert "train ran again" in StepRunFiles(Path(steps["train"].run_dir)).stdout.read_text()


def _saved_once(docker_watch) -> tuple[str, str, str]:  # noqa: F811
    """Save train once and wait for its run and what the watcher makes after it; (step run
    id, container id, reserved run id) of the one container started ahead (train's)."""
    ws, root, taken, watcher = docker_watch
    _save_train(root, "train ran again")
    _next_run(ws, 1)
    assert watcher.wait_idle(30)
    running = [(step, made) for step, made in _made_ahead(ws._local.layout).items()
               if made[1] == "running"]
    assert len(running) == 1
    step_run_id, (container_id, _, run_id) = running[0]
    taken.clear()
    return step_run_id, container_id, run_id


def _ran_train_again(ws, root: Path) -> tuple:
    """Save train a third time; (its run, train's step run) once the run ended."""
    _save_train(root, "train ran a third time")
    run = _next_run(ws, 2)
    steps = {s.name: s for s in get_step_runs(ws._local.conn, run.id)}
    assert "train ran a third time" in StepRunFiles(Path(steps["train"].run_dir)).stdout.read_text()
    return run, steps["train"]


def test_after_a_run_the_saved_steps_container_is_up_held_and_the_next_save_runs_in_it(
        docker_watch):  # noqa: F811
    ws, root, taken, _ = docker_watch
    step_run_id, container_id, run_id = _saved_once(docker_watch)
    # up, but nothing of the step runs: the init and the shell waiting at the gate
    assert [cmd.split()[0] for cmd in _processes(container_id)] == ["/sbin/docker-init", "sh"]
    run, train = _ran_train_again(ws, root)
    assert (run.id, train.id, run.status) == (run_id, step_run_id, "Finished")
    assert taken == [(step_run_id, True)]


def test_a_folder_made_again_under_a_container_made_ahead_gets_a_new_container(
        docker_watch):  # noqa: F811
    ws, root, taken, _ = docker_watch
    step_run_id, container_id, run_id = _saved_once(docker_watch)
    workdir = StepRunFiles(ws._local.layout.step_run_dir(run_id, step_run_id)).workdir
    (root / "other").mkdir()  # so the folder made again does not get the same inode back
    shutil.rmtree(workdir)
    workdir.mkdir()  # the container made ahead mounts the folder removed
    run, train = _ran_train_again(ws, root)
    assert (train.id, run.status) == (step_run_id, "Finished")
    assert taken == [(step_run_id, False)]
    with pytest.raises(Exception, match="No such container"):
        docker_client().api.inspect_container(container_id)
