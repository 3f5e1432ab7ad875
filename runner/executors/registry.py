"""Making an executor by name: the one place that turns the executor a run records (`local`,
`docker`) into an executor; Docker is imported only when asked for."""
from __future__ import annotations

from typing import Callable

from runner.errors import RunnerError
from runner.executors.base import Executor
from store.layout import WorkspaceLayout

# name → factory(layout, base_image, may_build); Docker is imported only when asked for.
ExecutorFactory = Callable[[WorkspaceLayout, "str | None", bool], Executor]


def _local(layout: WorkspaceLayout, base_image: str | None, may_build: bool) -> Executor:
    from runner.executors.local import LocalExecutor
    return LocalExecutor()


def _docker(layout: WorkspaceLayout, base_image: str | None, may_build: bool) -> Executor:
    from runner.executors.docker import DockerExecutor
    return DockerExecutor(layout, base_image, may_build=may_build)


_FACTORIES: dict[str, ExecutorFactory] = {"local": _local, "docker": _docker}
EXECUTOR_NAMES = tuple(_FACTORIES)


def make_executor(name: str, layout: WorkspaceLayout, base_image: str | None = None,
                  may_build: bool = True) -> Executor:
    """The executor called `name` for `layout`'s steps.

    `may_build=False` (planning at submit) makes an executor that never builds or pulls an
    image: where one is missing it raises `ImageNotReady` and the runner decides later.
    Raises a RunnerError when it cannot work here (e.g. no Docker engine answers).
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        raise RunnerError(f"unknown executor {name!r} (executors: {', '.join(EXECUTOR_NAMES)})")
    return factory(layout, base_image, may_build)
