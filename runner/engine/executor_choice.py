"""Which executor runs a pipeline run's steps, decided once at submit and recorded with the run.

An explicit choice (`amlocal run --executor`, a rerun's override) wins, then $AMLOCAL_EXECUTOR,
then the `executor` setting (the workspace's, else the user-wide one), then auto: Docker when an engine answers, local
processes otherwise. The base image likewise: explicit, $AMLOCAL_BASE_IMAGE, the setting,
the run a rerun repeats, the default.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from runner.errors import RunnerError
from store.layout import WorkspaceLayout
from store.settings import effective_settings

EXECUTOR_ENV = "AMLOCAL_EXECUTOR"
BASE_IMAGE_ENV = "AMLOCAL_BASE_IMAGE"
CHOICES = ("auto", "docker", "local")


class ExecutorChoiceError(RunnerError):
    """An executor was asked for that is unknown or cannot run here."""


@dataclass(frozen=True)
class ExecutorChoice:
    """The executor of a run, the base image for Docker, and a sentence saying why."""

    name: str
    base_image: str | None
    why: str


def choose_executor(layout: WorkspaceLayout, requested: str | None = None,
                    base_image: str | None = None,
                    fallback_base_image: str | None = None) -> ExecutorChoice:
    """Decide where the steps of a new run execute (see the module docstring)."""
    from runner.executors.docker_engine import DEFAULT_BASE_IMAGE, engine_answers
    settings = effective_settings(layout)
    executor = settings["executor"]
    sources = (("--executor", requested), (f"${EXECUTOR_ENV}", os.environ.get(EXECUTOR_ENV)),
               (f"{executor.source} setting", executor.value))
    source, chosen = next(((s, v) for s, v in sources if v), ("auto", "auto"))
    if chosen not in CHOICES:
        raise ExecutorChoiceError(f"executor {chosen!r} ({source}) is not one of {', '.join(CHOICES)}")
    if chosen == "local":
        return ExecutorChoice("local", None, f"steps run as local processes ({source})")
    base = (base_image or os.environ.get(BASE_IMAGE_ENV) or settings["base_image"].value
            or fallback_base_image or DEFAULT_BASE_IMAGE)
    answers, detail = engine_answers()
    if answers:
        return ExecutorChoice("docker", base, f"steps run in Docker containers (engine {detail}, "
                                              f"base image {base}; {source})")
    if chosen == "docker":
        raise ExecutorChoiceError(f"executor docker was asked for ({source}), but {detail}")
    return ExecutorChoice("local", None, "steps run as local processes: no Docker engine "
                                         "answered (auto)")
