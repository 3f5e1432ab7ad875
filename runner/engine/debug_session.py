"""Rebuilding a step run's exact environment to debug it (`amlocal debug RUN STEP`).

The step is prepared again as the runner prepared it (`prepare_step`), against its working
copy: the one a failed step left (kept until `amlocal gc`), or, when it is gone (the step
finished or was cleaned), a fresh copy of the step's snapshot. So the same inputs, outputs,
arguments, environment variables, image, user and limits; only the log files are not
redirected (what runs talks to the terminal). A reused step is debugged as the step run it
reused.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from runner.engine.compute_limits import step_limits
from runner.engine.registry_launch import RegistryAssets
from runner.engine.run_context import RunContext
from runner.engine.run_plan import RUNNABLE_KINDS
from runner.engine.step_launch import prepare_step
from runner.errors import RunnerError
from runner.executors.base import Executor, StepInvocation
from runner.executors.debug_launch import shell_command
from runner.executors.registry import make_executor
from runner.spec import PipelineSpec, StepSpec
from store import status as st
from store.catalog import get_pipeline
from store.records import StepRunRecord
from store.run_numbers import pipeline_run_number
from store.runs import get_pipeline_run, get_step_run, get_step_runs
from store.snapshots import SnapshotStore
from store.workspace import OpenWorkspace


class DebugError(RunnerError):
    """A step cannot be debugged (unknown, never started, no engine, …); one line."""


@dataclass(frozen=True)
class DebugSession:
    """A step run made ready to debug: its invocation, the command that reruns it, what to run
    now (`command`), and notes for the user (a fresh working copy, a reused step)."""

    step_name: str
    step_run_id: str
    executor: Executor
    invocation: StepInvocation
    command: tuple[str, ...]
    interactive: bool
    listen_port: int | None
    notes: tuple[str, ...]

    @property
    def rerun_command(self) -> str:
        """The command the step ran, as a shell line (`python3 train.py --data /amlocal/…`)."""
        return shlex.join(self.invocation.argv)


def _find_step(records: list[StepRunRecord], run_id: str, name: str) -> StepRunRecord:
    for record in records:
        if record.name == name:
            return record
    names = ", ".join(r.name for r in records) or "none"
    raise DebugError(f"run {run_id[:8]} has no step {name} (its steps: {names})")


def _original(local: OpenWorkspace, record: StepRunRecord) -> StepRunRecord:
    """The step run that really ran for `record` (itself, or the one a reused step reused)."""
    seen = {record.id}
    while record.decision == "reused" and record.reused_step_run_id:
        record = get_step_run(local.conn, record.reused_step_run_id)
        if record.id in seen:
            break
        seen.add(record.id)
    return record


def _executor(local: OpenWorkspace, record: StepRunRecord, base_image: str | None) -> Executor:
    """The executor the step ran with; a Docker step with no engine answering is a DebugError."""
    name = record.executor or "local"
    if name == "docker":
        from runner.executors.docker_engine import engine_answers
        answers, detail = engine_answers()
        if not answers:
            raise DebugError(f"step {record.name} ran in Docker, but no Docker engine answers "
                             f"({detail})")
    return make_executor(name, local.layout, base_image)


def _step_command(executor: Executor, argv: tuple[str, ...], wrapper: tuple[str, ...],
                  what: str) -> tuple[str, ...]:
    """The step's command run by `python <wrapper…>` instead of python directly."""
    if not argv or argv[0] != executor.python:
        raise DebugError(f"{what} needs a Python step; this step runs {shlex.join(argv)}")
    return (argv[0], *wrapper, *argv[1:])


def prepare_debug(local: OpenWorkspace, run_id: str, step_name: str,
                  command: tuple[str, ...] = (), pdb: bool = False,
                  listen_port: int | None = None) -> DebugSession:
    """Make step `step_name` of run `run_id` ready to debug: the shell to open (or `command`,
    or the step's own command under pdb / debugpy listening on `listen_port`)."""
    conn = local.conn
    notes: list[str] = []
    asked = _find_step(get_step_runs(conn, run_id), run_id, step_name)
    record = _original(local, asked)
    if record.id != asked.id:
        notes.append(f"step {step_name} was reused from run {record.pipeline_run_id[:8]}: "
                     f"debugging that step run ({record.id[:8]})")
    if record.status in st.ACTIVE and record.status != st.NOT_STARTED:
        raise DebugError(f"step {step_name} of run {run_id[:8]} is {record.status}; debug it once "
                         "it has ended")
    if "starting" not in record.phases:
        why = f" ({record.error})" if record.error else ""
        raise DebugError(f"step {step_name} of run {run_id[:8]} never started: "
                         f"{record.status}{why}")
    run = get_pipeline_run(conn, record.pipeline_run_id)
    spec = PipelineSpec.from_json(get_pipeline(conn, run.pipeline_id).spec)
    step: StepSpec = spec.step(record.node_id)
    if step.kind not in RUNNABLE_KINDS or not step.runs_script:
        raise DebugError(f"step {step_name} runs no script of its own ({step.type})")
    executor = _executor(local, record, run.base_image)
    ctx = RunContext.of(local.layout, run, spec)
    ctx.run_number = pipeline_run_number(conn, run.id)
    for other in get_step_runs(conn, run.id):
        if other.status == st.FINISHED:
            ctx.producer_outputs[other.node_id] = other.outputs
    files = ctx.step_files(record.id)
    if not files.workdir.is_dir():
        SnapshotStore(local.layout.snapshots_dir, conn).materialize(record.snapshot_id or "",
                                                                     files.workdir)
        notes.append(f"the working copy of step {step_name} is gone (it {record.status.lower()}): "
                     f"this is a fresh copy of its snapshot, in {files.workdir}")
    log = files.root / "debug-preparation.txt"
    environment = executor.resolve_environment(step.environment, log)
    limits, _ = step_limits(conn, step)
    prepared = prepare_step(ctx, step, record.id, files, executor, environment, limits,
                            record.snapshot_id, RegistryAssets.load(conn))
    invocation = prepared.invocation
    if command:
        run_now, interactive = tuple(command), False
    elif pdb:
        run_now, interactive = _step_command(executor, invocation.argv, ("-m", "pdb"), "--pdb"), True
    elif listen_port is not None:
        host = "0.0.0.0" if executor.name == "docker" else "127.0.0.1"  # published on 127.0.0.1
        run_now = _step_command(executor, invocation.argv,
                                ("-m", "debugpy", "--listen", f"{host}:{listen_port}",
                                 "--wait-for-client"), "--listen")
        interactive = True
    else:
        run_now, interactive = shell_command(executor), True
    return DebugSession(step_name, record.id, executor, invocation, run_now, interactive,
                        listen_port, tuple(notes))


def debugpy_missing(session: DebugSession, tty: bool = False) -> str | None:
    """Why `--listen` cannot work (debugpy not importable by the step's Python), or None."""
    import subprocess
    from runner.executors.debug_launch import launch
    probe = (session.executor.python, "-c", "import debugpy")
    with launch(session.executor, session.invocation, probe, tty=False) as started:
        done = subprocess.run(list(started.argv), env=started.env, cwd=started.cwd,
                              capture_output=True)
    if done.returncode == 0:
        return None
    where = (f"the step's image {session.invocation.image}" if session.executor.name == "docker"
             else f"the step's interpreter {session.executor.python}")
    return (f"debugpy is not installed in {where}; add debugpy to the environment's pip "
            "packages (or `pip install debugpy` there), or use --pdb")


def workdir_of(session: DebugSession) -> Path:
    """The working copy the session runs in (on this machine)."""
    return session.invocation.files.workdir
