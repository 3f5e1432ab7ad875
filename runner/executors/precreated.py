"""Containers created ahead of their step's start (watch mode), kept by step run id.

A watcher creates the container of the step a save is about to rerun while the burst of
saves settles (`DockerExecutor.precreate`); the step's start then only starts it — when it
would create exactly the same container (image, command, environment, user, working
directory, labels, mounts, limits, security options). Any difference, and the container
made ahead is removed and a new one created: the start never depends on the prediction.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Mapping

_lock = threading.Lock()
# step run id → (create_container arguments, container id, undo what the creation set up)
_made: dict[str, tuple[dict[str, Any], str, Callable[[], None]]] = {}
# step run ids whose container is being made ahead: set once it is made (or will not be)
_pending: dict[str, threading.Event] = {}
WAIT_SECONDS = 10.0  # the longest a start waits for a container being made ahead


def expect_precreated(step_run_ids: list[str]) -> None:
    """Say that the containers of `step_run_ids` are being made ahead: a start of one of
    them waits for it (`settle_precreated` ends the wait when one is not made after all)."""
    with _lock:
        for step_run_id in step_run_ids:
            _pending.setdefault(step_run_id, threading.Event())


def settle_precreated(step_run_id: str) -> None:
    """The container of `step_run_id` is made ahead, or will not be: a start waits no more."""
    with _lock:
        event = _pending.pop(step_run_id, None)
    if event is not None:
        event.set()


def wait_precreated(step_run_id: str) -> None:
    """Wait while the container of `step_run_id` is being made ahead (WAIT_SECONDS at most):
    a start sets the step's files up only once that setup is done."""
    with _lock:
        pending = _pending.get(step_run_id)
    if pending is not None:
        pending.wait(WAIT_SECONDS)


def keep_precreated(step_run_id: str, args: Mapping[str, Any], container_id: str,
                    undo: Callable[[], None]) -> None:
    """Remember the container `container_id`, created with `args` for step run `step_run_id`."""
    with _lock:
        _made[step_run_id] = (dict(args), container_id, undo)
    settle_precreated(step_run_id)


def take_precreated(api: Any, step_run_id: str, args: Mapping[str, Any]) -> str | None:
    """The id of the container made ahead for `step_run_id` when it was created with exactly
    `args` (it is no longer kept); one created otherwise is removed and None returned. Its
    `undo` is not called: the start that asks has set the step's files up again. While
    that container is being made, this waits for it (see `wait_precreated`)."""
    wait_precreated(step_run_id)
    with _lock:
        found = _made.pop(step_run_id, None)
    if found is None:
        return None
    made_with, container_id, _ = found
    if made_with == dict(args):
        return container_id
    _remove(api, container_id)
    return None


def discard_precreated(api: Any, step_run_id: str) -> bool:
    """Remove the container made ahead for `step_run_id` if it was never taken, undoing what
    its creation set up; True when there was one."""
    with _lock:
        found = _made.pop(step_run_id, None)
    if found is None:
        return False
    _remove(api, found[1])
    found[2]()
    return True


def precreated_step_runs() -> list[str]:
    """The step run ids whose container was made ahead and not taken yet."""
    with _lock:
        return list(_made)


def _remove(api: Any, container_id: str) -> None:
    try:
        api.remove_container(container_id, force=True)
    except Exception:
        pass  # gone already (a reaper, or the engine): nothing is left to remove
