"""The executor interface: what the engine hands over, and what it gets back.

A `StepInvocation` is everything needed to run one step (argv, environment, working
directory, log files, mounts, limits, image); paths in it are already mapped by the
executor's `map_path`, so the same step contract holds whether the step runs as a local
process or in a container. An executor declares what it can do in `capabilities` instead of
being probed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol

from runner.spec import EnvironmentSpec
from store.layout import StepRunFiles
from store.records import StepRunRecord


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


@dataclass(frozen=True)
class StepInvocation:
    """One step, ready to start: every field an executor reads, fixed before it starts."""

    step_run_id: str
    pipeline_run_id: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    files: StepRunFiles  # its log files (and the gate of a step started warm)
    mounts: tuple[Mount, ...] = ()
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    image: str | None = None  # the container image (None: the executor's base image, or none)
    shm_size: str | None = None  # the container's /dev/shm size, as the environment asks


@dataclass(frozen=True)
class ResolvedEnvironment:
    """A step's environment made ready: what identifies it for reuse, the image to run in
    (containers only), and facts to record with the step run."""

    identity: str
    image: str | None
    facts: Mapping[str, str]
    label: str = ""  # the identity in words, for reasons: "image python:3.11-slim (1badbbe27ade)"


def environment_label(spec: EnvironmentSpec, runs_in: str, settings: tuple[str, ...]) -> str:
    """An environment in words for reuse reasons: "train-env: image x (1badbbe27ade) with
    environment_variables" — its name, where it runs, and which of `settings` it sets."""
    used = [key for key in settings if getattr(spec, key)]
    return f"{spec.name}: {runs_in}" + (f" with {', '.join(used)}" if used else "")


@dataclass(frozen=True)
class StepOutcome:
    """How a step's process ended: its exit code, and a reason when it did not exit by itself."""

    exit_code: int | None
    reason: str | None = None


@dataclass(frozen=True)
class Usage:
    """CPU in percent of one core (since the previous sample) and resident memory in MiB."""

    cpu_percent: float
    memory_mib: float


@dataclass(frozen=True)
class Capabilities:
    """What an executor can do beyond starting steps.

    `warm_start`: a step can be started `held` (its container up, its script waiting) while
    the compute target's nodes are busy, and released when one frees up; worth it where a
    start costs much (a container: ~0.2 s).
    """

    warm_start: bool = False


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
    """Starts step invocations, and finds what steps it started left behind."""

    name: str
    python: str  # the interpreter that runs step scripts, as the step sees it
    capabilities: Capabilities

    def map_path(self, host_path: Path) -> str:
        """How the step sees `host_path`."""

    def base_environment(self) -> dict[str, str]:
        """The environment variables a step starts from, before the step contract's own."""

    def resolve_environment(self, environment: EnvironmentSpec, log_path: Path) -> ResolvedEnvironment:
        """Make a step's environment ready (build its image if this executor may), logging
        what it does to `log_path`."""

    def start(self, invocation: StepInvocation, held: bool = False) -> RunningStep:
        """Start the step; its output goes to the invocation's log files as it is written.

        `held` (only asked of an executor whose capabilities say `warm_start`): get
        everything up but run the script only on `release()`.
        """

    def usage(self, step: StepRunRecord) -> Usage | None:
        """CPU and memory of a running step it started (None once it is gone)."""

    def stop_lost_steps(self, pipeline_run_id: str, steps: Iterable[StepRunRecord]) -> None:
        """Stop what the given active steps of a run whose runner died left running."""

    def reap_orphans(self, keep_run: Callable[[str | None], bool]) -> list[str]:
        """Remove what steps of runs no longer alive left behind (`keep_run(pipeline_run_id)`
        says which runs are alive); returns the step run ids it cleaned up after."""
