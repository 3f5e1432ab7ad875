"""Containers made ahead of their step's start (watch mode), kept by step run id.

A watcher creates the container of the step a save is about to rerun, before the save or
while the burst of saves settles (`runner.watch.head_starts`), and starts it held: its shell
waits at the step's gate and runs nothing of the step (`DockerExecutor.start_ahead`). One
may also be only created, and started once a burst that reruns it begins. The step's start
then only opens the gate — when it would have
created exactly the same container (image, command, environment, user, working directory,
labels, mounts, limits, security options), from the same image and mounting the same files
and folders (not ones removed and made again since: `mounted_identity`), and that container
is still up. Any difference, and the container made ahead is removed and a new one created:
the start never depends on the prediction.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

WAIT_SECONDS = 10.0  # the longest a start waits for a container being made or started ahead
UP, CREATED, FAILED = "up", "created", "failed"  # where a container made ahead was left


@dataclass
class MadeAhead:
    """One container made ahead: how it was created, and where it was left (up, held at its
    gate; only created; or its start failed)."""

    args: dict[str, Any]  # its create_container arguments
    identity: tuple  # its image's id and what it mounts (see `mounted_identity`)
    container_id: str
    undo: Callable[[], None]  # undoes what its setup did, when no step takes it
    _left: threading.Event = field(default_factory=threading.Event)
    _state: str = FAILED

    def left(self, state: str) -> None:
        """It is left as `state` (UP, CREATED or FAILED); a take waits for this."""
        self._state = state
        self._left.set()

    def state(self) -> str:
        """Where it was left, waiting WAIT_SECONDS at most for its start to end (FAILED then)."""
        return self._state if self._left.wait(WAIT_SECONDS) else FAILED

    def starting(self) -> bool:
        """When it was only created: mark it as being started (a take waits until `left`
        says how that went) and say True."""
        if not self._left.is_set() or self._state != CREATED:
            return False
        self._left.clear()
        return True


_lock = threading.Lock()
_made: dict[str, MadeAhead] = {}  # by step run id
# step run ids whose container is being made ahead: set once it is made (or will not be)
_pending: dict[str, threading.Event] = {}


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


def mounted_identity(image_id: str, args: Mapping[str, Any]) -> tuple:
    """What a container created with `args` from image `image_id` is made of beyond its
    arguments: that id, and the device and inode of each file and folder it mounts (one
    removed and made again since is another; None when one is missing)."""
    sources = []
    for mount in args["host_config"].get("Mounts") or []:
        try:
            found = os.lstat(mount["Source"])
        except OSError:
            return (image_id, None)
        sources.append((mount["Source"], found.st_dev, found.st_ino))
    return (image_id, tuple(sources))


def keep_precreated(step_run_id: str, args: Mapping[str, Any], identity: tuple,
                    container_id: str, undo: Callable[[], None]) -> MadeAhead:
    """Remember the container `container_id`, created with `args` (and `identity`, see
    `mounted_identity`) for step run `step_run_id` (its setup is done: a start may set the
    same files up again). The caller says through the record returned where the container
    was left (`MadeAhead.left`)."""
    made = MadeAhead(dict(args), identity, container_id, undo)
    with _lock:
        _made[step_run_id] = made
    settle_precreated(step_run_id)
    return made


def start_precreated(api: Any, step_run_id: str) -> bool:
    """Start (held) the container only created ahead for `step_run_id`, unless a start took
    it first; a take meanwhile waits for this start. True when it is up."""
    with _lock:
        found = _made.get(step_run_id)
        if found is None or not found.starting():
            return False
    up = _start(api, found.container_id)
    found.left(UP if up else FAILED)  # failed: the step's start removes it, creates its own
    return up


def take_precreated(api: Any, step_run_id: str, args: Mapping[str, Any],
                    identity: Callable[[], tuple]) -> str | None:
    """The id of the container made ahead for `step_run_id`, up (held at its gate), when it
    was created with exactly `args` and its `identity` is still the same (it is no longer
    kept; one only created is started now); one created otherwise, whose start failed, or
    that is no longer running, is removed and None returned. Its `undo` is not called: the start that
    asks has set the step's files up again. While that container is being made or started,
    this waits for it (see `wait_precreated`)."""
    wait_precreated(step_run_id)
    with _lock:
        found = _made.pop(step_run_id, None)
    if found is None:
        return None
    if found.args == dict(args) and found.identity == identity():
        state = found.state()
        if state == CREATED and _start(api, found.container_id):
            return found.container_id
        if state == UP and _still_running(api, found.container_id):
            return found.container_id
    _remove(api, found.container_id)
    return None


def discard_precreated(api: Any, step_run_id: str) -> bool:
    """Remove the container made ahead for `step_run_id` if it was never taken, undoing what
    its creation set up; True when there was one."""
    with _lock:
        found = _made.pop(step_run_id, None)
    if found is None:
        return False
    _remove(api, found.container_id)
    found.undo()
    return True


def precreated_step_runs() -> list[str]:
    """The step run ids whose container was made ahead and not taken yet."""
    with _lock:
        return list(_made)


def _start(api: Any, container_id: str) -> bool:
    """Start a container made ahead; False when the engine refuses (e.g. a reaper removed it)."""
    try:
        api.start(container_id)
        return True
    except Exception:
        return False


def _still_running(api: Any, container_id: str) -> bool:
    """Whether the container is up (a reaper of another runner may have removed it meanwhile:
    one whose run is not recorded yet looks left over)."""
    try:
        return bool(api.inspect_container(container_id)["State"]["Running"])
    except Exception:
        return False


def _remove(api: Any, container_id: str) -> None:
    try:
        api.remove_container(container_id, force=True)
    except Exception:
        pass  # gone already (a reaper, or the engine): nothing is left to remove
