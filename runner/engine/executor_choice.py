"""Which executor runs a pipeline run's steps, decided once at submit and recorded with the run.

Explicit choice (`amlocal run --executor`, or $AMLOCAL_EXECUTOR) wins, then the workspace's
`executor` setting, then auto: Docker when an engine answers, local processes otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from runner.errors import RunnerError
from store.layout import WorkspaceLayout
from store.settings import read_settings

EXECUTOR_ENV = "AMLOCAL_EXECUTOR"
BASE_IMAGE_ENV = "AMLOCAL_BASE_IMAGE"
EXECUTOR_PROPERTY = "amlocal.executor"
BASE_IMAGE_PROPERTY = "amlocal.base_image"
CHOICES = ("auto", "docker", "local")


class ExecutorChoiceError(RunnerError):
    """An executor was asked for that is unknown or cannot run here."""


@dataclass(frozen=True)
class ExecutorChoice:
    """The executor of a run, the base image for Docker, and a sentence saying why."""

    name: str
    base_image: str | None
    why: str


def choose_executor(layout: WorkspaceLayout, fallback_base_image: str | None = None) -> ExecutorChoice:
    """Decide where the steps of a new run execute (see the module docstring).

    The base image is $AMLOCAL_BASE_IMAGE, else the workspace setting, else
    `fallback_base_image` (a rerun passes the image its original run used), else the default.
    """
    from runner.executors.docker_engine import DEFAULT_BASE_IMAGE, engine_answers
    settings = read_settings(layout)
    requested = os.environ.get(EXECUTOR_ENV) or settings.get("executor") or "auto"
    source = ("--executor/$" + EXECUTOR_ENV) if os.environ.get(EXECUTOR_ENV) else \
        "workspace setting" if settings.get("executor") else "auto"
    if requested not in CHOICES:
        raise ExecutorChoiceError(f"executor {requested!r} ({source}) is not one of {', '.join(CHOICES)}")
    if requested == "local":
        return ExecutorChoice("local", None, f"steps run as local processes ({source})")
    base = (os.environ.get(BASE_IMAGE_ENV) or settings.get("base_image") or fallback_base_image
            or DEFAULT_BASE_IMAGE)
    answers, detail = engine_answers()
    if answers:
        return ExecutorChoice("docker", base, f"steps run in Docker containers (engine {detail}, "
                                              f"base image {base}; {source})")
    if requested == "docker":
        raise ExecutorChoiceError(f"executor docker was asked for ({source}), but {detail}")
    return ExecutorChoice("local", None, "steps run as local processes: no Docker engine "
                                         "answered (auto)")
