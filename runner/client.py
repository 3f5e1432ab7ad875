"""The client API: submit a pipeline spec, rerun a run, cancel a run.

Every client goes through here: the SDK (`Experiment.submit`, `PublishedPipeline.submit`,
`PipelineRun.cancel`), the command line, the dashboard and the watcher. A submit records the
run with its options as columns, decides at once what can be reused (`runner.engine.run_plan`)
and starts a detached runner process for the rest, so the client may exit while the run goes
on. The workspace service's client has a queue (runner/service/dispatch.py): its submits only
record the run, as Queued, and the queue starts the runner, which then makes the reuse
decisions itself (runner/engine/submit_plan.py). A pipeline script evaluated by `runner.pipeline_script` submits inside a
`submission_scope`, which gives its submits their options (the script, the executor) and
collects what they submitted.
"""
from __future__ import annotations

import contextlib
import contextvars
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol

from runner.engine.executor_choice import ExecutorChoice, choose_executor
from runner.engine.gitinfo import GitInfo, read_git_info
from runner.engine.head_start import ReservedIds
from runner.engine.liveness import cancel_run
from runner.engine.script_eval import record_script_hash
from runner.engine.runner_process import start_runner
from runner.engine.submit_plan import plan_at_submit, source_folder
from runner.errors import RunnerError
from runner.spec import PipelineSpec
from store import catalog
from store import status as st
from store.catalog import get_pipeline
from store.errors import StoreError
from store.records import PipelineRunRecord
from store.runs import (NewPipelineRun, NewStepRun, create_pipeline_run, finish_open_step_runs,
                        finish_pipeline_run, get_pipeline_run, mark_runner_started)
from store.workspace import OpenWorkspace

_TYPE_CODES = {bool: "int", int: "int", float: "float", str: "str"}


class SubmitError(RunnerError, ValueError):
    """A pipeline that cannot be submitted as it is (a cycle in its graph)."""


@dataclass(frozen=True)
class WorkspaceIdentity:
    """The Azure workspace a script named: its subscription, resource group and name."""

    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_name: str | None = None


@dataclass(frozen=True)
class SubmitOptions:
    """How to submit a pipeline: where the run goes, with what, and how it is executed.

    `executor` (auto, docker, local) and `base_image` are explicit choices; left None, the
    environment and the workspace settings decide (`runner.engine.executor_choice`).
    `script` is the pipeline script that submitted it (what a watcher evaluates again).
    """

    experiment_name: str
    pipeline_name: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    continue_on_step_failure: bool = False
    regenerate_outputs: bool = False
    identity: WorkspaceIdentity = WorkspaceIdentity()
    script: Path | None = None
    executor: str | None = None
    base_image: str | None = None
    published_pipeline_id: str | None = None
    source_folder: Path | None = None  # where to read git facts from (default: the first step's)
    # Steps that run whatever reuse would say (node ids), and the reason their runs give.
    forced_nodes: frozenset[str] = frozenset()
    forced_reason: str = ""


def forced_steps(spec: PipelineSpec, steps: tuple[str, ...],
                 from_step: str | None) -> tuple[frozenset[str], str]:
    """The node ids a rerun forces to run, and the reason they give: each of `steps` (names)
    and everything downstream of it; `from_step` and every step after it in pipeline order."""
    by_name = {s.name: s.node_id for s in spec.steps}
    unknown = [n for n in (*steps, *([from_step] if from_step else [])) if n not in by_name]
    if unknown:
        raise RunnerError(f"the pipeline has no step {unknown[0]} (its steps: "
                          f"{', '.join(by_name)})")
    nodes: set[str] = set(spec.graph().closure({by_name[n] for n in steps})) if steps else set()
    said = [f"--step {', '.join(steps)}"] if steps else []
    if from_step:
        order = [s.node_id for s in spec.steps]
        nodes |= set(order[order.index(by_name[from_step]):])
        nodes |= set(spec.graph().closure(nodes))
        said.append(f"--from {from_step}")
    return frozenset(nodes), f"asked for (amlocal rerun {' '.join(said)})" if said else ""


@dataclass(frozen=True)
class Submitted:
    """A submitted run: its id, where its steps run, and whether it finished at submit (every
    step reused)."""

    run_id: str
    executor: ExecutorChoice
    finished_at_submit: bool


@dataclass(frozen=True)
class ScopeDefaults:
    """What a submission scope gives the submits made in it (an explicit option still wins).

    `no_wait` (`amlocal run --no-wait`) makes the SDK's `wait_for_completion` return at once
    with the run's current status, as the SDK's would right after submit.
    """

    script: Path | None = None
    executor: str | None = None
    base_image: str | None = None
    no_wait: bool = False


@dataclass
class SubmissionScope:
    """The submits made while a pipeline script runs: its defaults, and what it submitted."""

    defaults: ScopeDefaults
    submitted: list[Submitted] = field(default_factory=list)


_scope: contextvars.ContextVar[SubmissionScope | None] = contextvars.ContextVar(
    "amlocal_submission_scope", default=None)


@contextlib.contextmanager
def submission_scope(defaults: ScopeDefaults) -> Iterator[SubmissionScope]:
    """Submits made inside get `defaults` and are collected in the yielded scope."""
    scope = SubmissionScope(defaults)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def scope_defaults() -> ScopeDefaults | None:
    """The defaults of the submission scope this code runs in, None outside one."""
    scope = _scope.get()
    return scope.defaults if scope is not None else None


def check_parameters(spec: PipelineSpec, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Submitted parameter values merged over the defaults, checked as the SDK checks them."""
    resolved = {name: p.default for name, p in spec.parameters.items()}
    for name, value in (values or {}).items():
        if name not in spec.parameters:
            known = ", ".join(sorted(spec.parameters)) or "none"
            raise Exception(f"Pipeline parameter with name {name} does not exist "
                            f"(this pipeline's parameters: {known})")
        kind = spec.parameters[name].type
        if kind == "datapath" and not (isinstance(value, dict) and value.get("datastore")):
            raise Exception(f"Pipeline parameter {name} expects a DataPath "
                            f"(DataPath(datastore, path_on_datastore)), got {type(value).__name__} {value!r}")
        if kind == "dataset":
            _check_dataset_value(name, spec.parameters[name].default, value)
        if kind in ("int", "float", "str", "bool"):
            expected = "int" if kind == "bool" else kind
            got = _TYPE_CODES.get(type(value))
            if got != expected:
                raise Exception(f"Pipeline parameter {name} expects a value of type {expected}, "
                                f"got {type(value).__name__} {value!r}")
        resolved[name] = value
    return resolved


def _check_dataset_value(name: str, default: Any, value: Any) -> None:
    """A dataset parameter takes a dataset (as `{"dataset": definition, "asset_id": id}`) of
    the same kind as its default: a FileDataset for a FileDataset, a TabularDataset for a
    TabularDataset (the steps consume it the same way)."""
    names = {"file": "FileDataset", "tabular": "TabularDataset"}
    wanted = names.get(((default or {}).get("dataset") or {}).get("kind"), "dataset")
    if not (isinstance(value, dict) and isinstance(value.get("dataset"), dict)):
        raise Exception(f"Pipeline parameter {name} expects a {wanted}, "
                        f"got {type(value).__name__} {value!r}")
    got = names.get(value["dataset"].get("kind"), "dataset")
    if got != wanted:
        raise Exception(f"Pipeline parameter {name} expects a {wanted}, got a {got}")


def refuse_cycles(spec: PipelineSpec) -> None:
    """Raise a clear error when the pipeline graph has a cycle."""
    on_cycle = spec.graph().cycle_nodes()
    if on_cycle:
        names = "; ".join(f"Cycle detected including node {n}({node})"
                          for node, n in zip(on_cycle, spec.names(on_cycle)))
        raise SubmitError("The pipeline graph has a cycle, so no step could start: " + names
                          + " (check run_after() calls and which step lists each PipelineData "
                          "in outputs= and in inputs=)")


def _git_folder(spec: PipelineSpec, options: SubmitOptions) -> Path:
    if options.source_folder is not None:
        return options.source_folder
    folder = source_folder(spec)
    return Path(folder) if folder is not None else Path.cwd()


class RunQueue(Protocol):
    """Where a client with a queue puts its submits (the workspace service's dispatcher)."""

    owner: tuple[int, float]  # the pid and create time of the process that owns the queue

    def notify(self) -> None:
        """Say that a run was queued."""


class Client:
    """Submits, reruns and cancels runs of one open workspace.

    With a `queue` (the workspace service), a submit records the run as Queued and returns
    at once; the queue starts it (`start_queued`) when it has a free slot.
    """

    def __init__(self, local: OpenWorkspace, queue: RunQueue | None = None) -> None:
        self.local = local
        self.queue = queue

    def submit(self, spec: PipelineSpec, options: SubmitOptions, *, start: bool = True,
               fallback_base_image: str | None = None,
               reserved: ReservedIds | None = None) -> Submitted:
        """Record a new run of `spec`, decide what can be reused, and start its runner.

        With `start=False` no runner process is started: the caller executes the run itself
        (a watcher). `fallback_base_image` is the image of the run a rerun repeats;
        `reserved` the ids to record it with (a watcher's head start set up for them).
        """
        scope = _scope.get()
        if scope is not None:
            d = scope.defaults
            options = replace(options, script=options.script or d.script,
                              executor=options.executor or d.executor,
                              base_image=options.base_image or d.base_image)
        if self.queue is not None and start:
            submitted = self.enqueue(spec, options, self.queue.owner)
            self.queue.notify()
            return submitted
        refuse_cycles(spec)
        values = check_parameters(spec, options.parameters)
        choice = choose_executor(self.local.layout, options.executor, options.base_image,
                                 fallback_base_image)
        run = get_pipeline_run(self.local.conn,
                               self._record(spec, options, values, choice, reserved=reserved))
        try:
            finished = self._plan(spec, run, choice)
        except BaseException as exc:  # the run is recorded: it ends with the reason, not NotStarted
            self._fail_unstarted(run.id, exc)
            raise
        if start and not finished:
            start_runner(self.local, run.id)
        submitted = Submitted(run.id, choice, finished)
        if scope is not None:
            scope.submitted.append(submitted)
        return submitted

    def enqueue(self, spec: PipelineSpec, options: SubmitOptions,
                owner: tuple[int, float]) -> Submitted:
        """Record a new run of `spec` and put it in the queue of the service process `owner`
        (pid, create time), for `start_queued` to start when a slot is free.

        What a REST submit does before it answers, so it is short: the parameters are checked
        and the run recorded, and its git facts, reuse decisions and runner come later.
        """
        refuse_cycles(spec)
        values = check_parameters(spec, options.parameters)
        choice = choose_executor(self.local.layout, options.executor, options.base_image)
        run_id = self._record(spec, options, values, choice, queued_by=owner)
        return Submitted(run_id, choice, False)

    def start_queued(self, run_id: str, on_runner_exit: Callable[[int], None] | None = None,
                     niceness: int = 0) -> int:
        """Start the runner of the queued run `run_id`; its pid. The runner claims the run and
        does what `enqueue` left for later: the git facts and the reuse decisions
        (`runner.engine.submit_plan`). `on_runner_exit(returncode)` is called when it ends;
        `niceness` lowers its CPU priority."""
        return start_runner(self.local, run_id, on_runner_exit, niceness)

    def _fail_unstarted(self, run_id: str, exc: BaseException) -> None:
        """End a recorded run that could not be started with the reason, not NotStarted."""
        error = str(exc) if isinstance(exc, (RunnerError, StoreError)) else \
            f"could not submit: {type(exc).__name__}: {exc}"
        finish_open_step_runs(self.local.conn, run_id, st.FAILED, error)
        finish_pipeline_run(self.local.conn, run_id, st.FAILED, error)

    def _record(self, spec: PipelineSpec, options: SubmitOptions, values: dict[str, Any],
                choice: ExecutorChoice, queued_by: tuple[int, float] | None = None,
                reserved: ReservedIds | None = None) -> str:
        """Record the run (Queued under `queued_by`, its git facts read later; with the ids
        `reserved` for it, if any); its id."""
        conn, layout = self.local.conn, self.local.layout
        git = read_git_info(_git_folder(spec, options)) if queued_by is None else GitInfo()
        run_id = reserved.run_id if reserved is not None else str(uuid.uuid4())
        run_dir = layout.pipeline_run_dir(run_id)
        run_dir.mkdir(parents=True, exist_ok=reserved is not None)  # a head start made it
        experiment_id = catalog.ensure_experiment(conn, options.experiment_name)
        pipeline_id = catalog.ensure_pipeline(conn, options.pipeline_name, spec.to_json())
        step_ids = [(reserved.step_ids.get(s.node_id) if reserved is not None else None)
                    or str(uuid.uuid4()) for s in spec.steps]
        steps = [NewStepRun(step_id, s.node_id, s.name, i, str(layout.step_run_dir(run_id, step_id)),
                            s.compute_target) for i, (step_id, s) in enumerate(zip(step_ids, spec.steps))]
        identity = options.identity
        create_pipeline_run(conn, NewPipelineRun(
            id=run_id, experiment_id=experiment_id, pipeline_id=pipeline_id, run_dir=str(run_dir),
            parameters=values, tags={k: str(v) for k, v in options.tags.items()},
            properties=git.as_properties(),
            continue_on_step_failure=options.continue_on_step_failure,
            regenerate_outputs=options.regenerate_outputs,
            published_pipeline_id=options.published_pipeline_id,
            git_repository=git.repository, git_branch=git.branch, git_commit=git.commit,
            git_dirty=git.dirty, script=str(options.script) if options.script else None,
            executor=choice.name, base_image=choice.base_image,
            subscription_id=identity.subscription_id, resource_group=identity.resource_group,
            workspace_name=identity.workspace_name,
            forced={"nodes": sorted(options.forced_nodes), "reason": options.forced_reason}
            if options.forced_nodes else {}, queued_by=queued_by), steps)
        record_script_hash(run_dir, options.script)
        return run_id

    def _plan(self, spec: PipelineSpec, run: PipelineRunRecord, choice: ExecutorChoice) -> bool:
        """Decide and record what can be decided now; True when every step was reused."""
        return plan_at_submit(self.local, spec, run, choice.name, choice.base_image)

    def start_interactive(self, options: SubmitOptions) -> str:
        """Record a run with no steps that this process logs to (`Experiment.start_logging`):
        Running at once, with this process as its owner, so a process that dies without
        completing it leaves it Failed ("runner lost") rather than Running for ever."""
        import psutil
        spec = PipelineSpec(steps=(), description=options.pipeline_name)
        choice = ExecutorChoice("local", None, "an interactive run logs from this process")
        run_id = self._record(spec, options, dict(options.parameters), choice)
        me = psutil.Process()
        mark_runner_started(self.local.conn, run_id, me.pid, me.create_time())
        return run_id

    def finish_interactive(self, run_id: str, status: str, error: str | None = None) -> None:
        """End an interactive run with `status` (Finished, Failed, Canceled)."""
        finish_pipeline_run(self.local.conn, run_id, status, error)

    def rerun(self, run_id: str, *, regenerate_outputs: bool = False,
              parameters: Mapping[str, Any] | None = None, executor: str | None = None,
              base_image: str | None = None, start: bool = True,
              steps: tuple[str, ...] = (), from_step: str | None = None,
              reserved: ReservedIds | None = None) -> Submitted:
        """Submit the pipeline of `run_id` again, in its experiment, with its parameters
        (`parameters` override some), its script and its workspace identity; its base image
        unless one is chosen. `steps` (names) run again with every step downstream of them,
        and `from_step` with every step after it in pipeline order, whatever reuse would say;
        the others are reused where they can be."""
        run = get_pipeline_run(self.local.conn, run_id)
        pipeline = get_pipeline(self.local.conn, run.pipeline_id)
        spec = PipelineSpec.from_json(pipeline.spec)
        forced, reason = forced_steps(spec, steps, from_step)
        options = SubmitOptions(
            experiment_name=run.experiment_name, pipeline_name=pipeline.name,
            parameters={**run.parameters, **(parameters or {})},
            continue_on_step_failure=run.continue_on_step_failure,
            regenerate_outputs=regenerate_outputs,
            identity=WorkspaceIdentity(run.subscription_id, run.resource_group, run.workspace_name),
            script=Path(run.script) if run.script else None, executor=executor,
            base_image=base_image, published_pipeline_id=run.published_pipeline_id,
            forced_nodes=forced, forced_reason=reason)
        return self.submit(spec, options, start=start, fallback_base_image=run.base_image,
                           reserved=reserved)

    def cancel(self, run_id: str) -> str:
        """Ask the runner of `run_id` to stop it; returns what was done, in words."""
        return cancel_run(self.local.conn, self.local.layout, run_id)
