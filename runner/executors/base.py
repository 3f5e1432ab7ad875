"""The executor interface: what the scheduler hands over, and what it gets back.

A `StepInvocation` is everything needed to run one step (argv, environment, working
directory, log files, mounts, limits); paths in it are already mapped by the executor's
`map_path`, so the same step contract holds whether the step runs as a local process or in
a container.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Mount:
    """A host folder the step may see; read-only for inputs and the snapshot."""

    host_path: Path
    read_only: bool


@dataclass(frozen=True)
class ResourceLimits:
    """CPU, memory and time limits of one step (None = unlimited)."""

    cpus: float | None = None
    memory_mb: int | None = None
    timeout_seconds: float | None = None
    network: str | None = None  # "none" cuts the step off the network (Docker only)


@dataclass
class StepInvocation:
    """One step, ready to start."""

    step_run_id: str
    pipeline_run_id: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    stdout_path: Path
    stderr_path: Path
    mounts: list[Mount] = field(default_factory=list)
    environment: dict | None = None
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    image: str | None = None  # set by the executor's `prepare` when the step runs in a container


@dataclass(frozen=True)
class ResolvedEnvironment:
    """A step's environment made ready: what identifies it for reuse, the image to run in
    (containers only), and facts to record with the step run."""

    identity: str
    image: str | None
    facts: dict[str, str]
    label: str = ""  # the identity in words, for reasons: "image python:3.11-slim (1badbbe27ade)"


def environment_label(spec: dict, runs_in: str, settings: tuple[str, ...]) -> str:
    """An environment in words for reuse reasons: "train-env: image x (1badbbe27ade) with
    environment_variables" — its name, where it runs, and which of `settings` it sets."""
    name = spec.get("name") or "default-environment"
    used = [key for key in settings if spec.get(key)]
    return f"{name}: {runs_in}" + (f" with {', '.join(used)}" if used else "")


@dataclass(frozen=True)
class StepOutcome:
    """How a step's process ended: its exit code, and a reason when it did not exit by itself."""

    exit_code: int | None
    reason: str | None = None


class RunningStep(Protocol):
    """A started step. `pid`/`create_time` identify a local process (None in a container)."""

    pid: int | None
    create_time: float | None

    def wait(self, timeout: float) -> StepOutcome | None:
        """The outcome once the step ended, or None if it still runs after `timeout` seconds."""

    def stop(self, grace_seconds: float) -> None:
        """Ask the step to stop (SIGTERM), wait up to `grace_seconds`, then kill it."""

    def release(self) -> None:
        """Let a step started `held` run its script now."""

    def close(self) -> None:
        """Release what the step held (a container is removed); called once, always."""


class Executor(Protocol):
    """Starts step invocations."""

    name: str
    python: str  # the interpreter that runs step scripts, as the step sees it

    def map_path(self, host_path: Path) -> str:
        """How the step sees `host_path`."""

    def base_environment(self) -> dict[str, str]:
        """The environment variables a step starts from, before the step contract's own."""

    def resolve_environment(self, environment: dict | None, log_path: Path) -> ResolvedEnvironment:
        """Make a step's environment ready (build its image), logging to `log_path`."""

    def start(self, invocation: StepInvocation, held: bool = False) -> RunningStep:
        """Start the step; its output goes to the invocation's log files as it is written.

        `held`: get everything up but run the script only on `release()` (an executor with
        `warm_start = True` makes that cheaper than starting later; others just start late).
        """
