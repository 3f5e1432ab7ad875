"""Watch mode's head start: the containers of the steps a save is about to rerun, created
and started (held at their gate) while the burst of saves settles — or, after a run, ahead of
the next save of the same files — so that once the rerun is submitted only opening the gate
is left.

The rerun's ids are reserved first (`ReservedIds`, which the submit then uses), so each
predicted step's invocation is the one its real launch prepares: same step run id, folders,
environment, mounts, image and user. The prediction is made from the previous run: the
steps a change invalidates whose upstream steps it does not (those start as soon as the
run does), with the upstream outputs that run used. Nothing depends on it being right: the
executor lets a step run in a container made ahead only when its real launch would create
exactly the same one, and removes it otherwise (`runner.executors.precreated`); `end`
removes what no step took, and the folders it set up for a step run that never started.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from runner.engine.compute_limits import step_limits
from runner.engine.executor_choice import choose_executor
from runner.engine.registry_launch import RegistryAssets
from runner.engine.run_context import RunContext
from runner.engine.step_launch import prepare_step
from runner.errors import RunnerError
from runner.executors.precreated import expect_precreated, settle_precreated
from runner.executors.registry import make_executor
from runner.spec import PipelineSpec, StepSpec
from store import status as st
from store.errors import StoreError
from store.layout import StepRunFiles, WorkspaceLayout
from store.run_numbers import next_run_number
from store.runs import get_pipeline_run, get_step_runs
from store.workspace import open_workspace


@dataclass(frozen=True)
class ReservedIds:
    """The ids a run will be recorded with: its own and each step's (by node id)."""

    run_id: str
    step_ids: Mapping[str, str]

    @staticmethod
    def new(spec: PipelineSpec) -> "ReservedIds":
        return ReservedIds(str(uuid.uuid4()), {s.node_id: str(uuid.uuid4()) for s in spec.steps})


@dataclass
class HeadStart:
    """What is made ahead for one reserved run: the step runs with a container waiting.

    `begin` reserves the ids at once (the rerun may be submitted with them right away) and
    makes the containers in a thread; a start of one of those steps waits for its container.
    """

    ids: ReservedIds
    layout: WorkspaceLayout
    previous_run_id: str = ""  # the run whose rerun this is made for
    stale: frozenset[str] = frozenset()  # the nodes that rerun predicts to run
    started: bool = True  # its containers are started (held), not only created
    executor: Any = None  # the executor that made them (None: nothing was made)
    # each step run set up ahead: its folder's files, and the output folders its setup
    # created (none that existed before), deepest first
    made: list[tuple[StepRunFiles, list[Path]]] = field(default_factory=list)
    _thread: threading.Thread | None = None

    @staticmethod
    def begin(layout: WorkspaceLayout, previous_run_id: str, spec: PipelineSpec,
              stale: set[str], requested_executor: str | None = None,
              start: bool = True) -> "HeadStart":
        """Reserve the ids of the rerun of `previous_run_id` (whose pipeline is `spec`) and
        start making the containers of its first `stale` steps (see `make_containers`);
        `start`: and start them, held (not only create them)."""
        head = HeadStart(ReservedIds.new(spec), layout, previous_run_id, frozenset(stale), start)
        steps = first_to_run(spec, stale)
        if not steps:
            return head
        expected = [head.ids.step_ids[s.node_id] for s in steps]
        expect_precreated(expected)

        def make() -> None:
            try:
                head.make_containers(previous_run_id, spec, steps, stale, requested_executor)
            except Exception:
                pass  # each step is created at its start, which says what is wrong
            finally:
                for step_run_id in expected:
                    settle_precreated(step_run_id)
        head._thread = threading.Thread(target=make, name="head-start", daemon=True)
        head._thread.start()
        return head

    def start_now(self) -> None:
        """Start (held) the containers this made but did not start: a burst of saves began
        that reruns them. In a thread, after the ones still being made."""
        self.started = True  # those not made yet are started as they are made

        def start() -> None:
            if self._thread is not None:
                self._thread.join()
            for files, _ in list(self.made):
                try:
                    self.executor.start_created_ahead(files.root.name)
                except Exception:
                    pass  # the step's start makes its own container, and says what is wrong
        if self.executor is not None or self._thread is not None:
            threading.Thread(target=start, name="head-start-now", daemon=True).start()

    def wait_made(self, timeout: float) -> bool:
        """Wait until its containers are made and started (or will not be); False when they
        are still being made after `timeout` seconds."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def made_for(self, previous_run_id: str, stale: set[str]) -> bool:
        """Whether this is the head start of the rerun of `previous_run_id` that runs `stale`."""
        return self.previous_run_id == previous_run_id and self.stale == frozenset(stale)

    def end(self) -> None:
        """Remove the containers no step took, and what was set up for a step run that never
        started (empty files and folders only; a run never recorded loses its folder)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.executor is None:
            return
        started, recorded = _started_step_runs(self.layout, self.ids.run_id)
        for files, outputs in self.made:
            self.executor.discard_precreated(files.root.name)
            if files.root.name in started:
                continue  # a step that ran: what its folders hold is its own
            _undo_setup(files)
            for folder in outputs:  # deepest first; only folders, and only when empty
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
        if not recorded:
            shutil.rmtree(self.layout.pipeline_run_dir(self.ids.run_id), ignore_errors=True)
        self.made = []

    def make_containers(self, previous_run_id: str, spec: PipelineSpec, steps: list[StepSpec],
                        stale: set[str], requested_executor: str | None) -> None:
        """When the rerun's steps run in Docker (with `requested_executor`, as the rerun asks
        for), create the containers of `steps` as their launch in the rerun of
        `previous_run_id` will (with the upstream outputs that run used), and start them held
        (when `started`)."""
        layout = self.layout
        with open_workspace(layout) as local:
            conn = local.conn
            run = get_pipeline_run(conn, previous_run_id)
            try:
                choice = choose_executor(layout, requested_executor, None, run.base_image)
                if choice.name != "docker":
                    return
                # never pulls or builds (an image not here yet: the step's own start does)
                executor = make_executor(choice.name, layout, choice.base_image, may_build=False)
            except RunnerError:
                return  # the rerun says what is wrong
            if not hasattr(executor, "start_ahead"):
                return
            self.executor = executor
            record = run._replace(id=self.ids.run_id, created_at=time.time(),
                                  status=st.NOT_STARTED, start_time=None, end_time=None,
                                  runner_pid=None, runner_create_time=None,
                                  cancel_requested=False, error=None,
                                  run_dir=layout.pipeline_run_dir(self.ids.run_id), forced={})
            ctx = RunContext.of(layout, record, spec)
            ctx.run_number = next_run_number(conn, run.experiment_id)
            for previous in get_step_runs(conn, previous_run_id):
                if previous.node_id not in stale and previous.status == st.FINISHED:
                    ctx.producer_outputs[previous.node_id] = previous.outputs
            assets = RegistryAssets.load(conn)
            for step in steps:
                self._make_one(conn, ctx, step, assets)

    def _make_one(self, conn: Any, ctx: RunContext, step: StepSpec, assets: RegistryAssets) -> None:
        step_run_id = self.ids.step_ids[step.node_id]
        files = ctx.step_files(step_run_id)
        try:
            environment = self.executor.resolve_environment(step.environment, Path(os.devnull))
            limits, _ = step_limits(conn, step)
            files.workdir.mkdir(parents=True, exist_ok=True)  # the snapshot goes in later
            new_folders: list[Path] = []
            self.made.append((files, new_folders))
            for out in step.outputs:
                new_folders += _missing_folders(ctx.output(step_run_id, out).local_path,
                                                self.layout.datastores_dir)
            prepared = prepare_step(ctx, step, step_run_id, files, self.executor, environment,
                                    limits, None, assets)
            self.executor.start_ahead(prepared.invocation, start=self.started)
        except Exception:
            pass  # its start meets the same problem and says so


def first_to_run(spec: PipelineSpec, stale: set[str]) -> list[StepSpec]:
    """The steps of `stale` that start with the run: none of their upstream steps is stale.
    Only plain Python steps whose inputs are mounted (a download copies data, a parallel
    step has its cache: not set up ahead)."""
    graph = spec.graph()
    return [s for s in spec.ordered_steps() if s.node_id in stale
            and not (graph.dependencies[s.node_id] & stale) and s.kind == "python"
            and s.parallel is None and all((i.mode or "mount") == "mount" for i in s.inputs)]


def _missing_folders(folder: Path, top: Path) -> list[Path]:
    """`folder` and its parents below `top` that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path == top or top not in path.parents or path.exists():
            break
        missing.append(path)
    return missing


def _started_step_runs(layout: WorkspaceLayout, run_id: str) -> tuple[set[str], bool]:
    """(ids of `run_id`'s step runs that were started to run, whether the run is recorded)."""
    with open_workspace(layout) as local:
        try:
            get_pipeline_run(local.conn, run_id)
        except StoreError:
            return set(), False
        return {s.id for s in get_step_runs(local.conn, run_id)
                if s.decision == "run" and s.start_time is not None}, True


def _undo_setup(files: StepRunFiles) -> None:
    """Remove what `prepare_step` set up in the folder of a step run that did not run (it
    was reused, or canceled first): its empty log files, its registry view, and the empty
    folders; whatever else is there (a reused step's copies) stays."""
    for path in (files.stdout, files.stderr, files.events):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size == 0:
                path.unlink()
        except OSError:
            pass
    if files.registry_view.is_file() and not files.registry_view.is_symlink():
        files.registry_view.unlink()
    for folder in (files.registrations, files.artifacts, files.workdir):
        _remove_empty(folder)
    try:
        files.root.rmdir()
    except OSError:
        pass  # not empty: the run's own


def _remove_empty(folder: Path) -> None:
    """Remove `folder`'s empty files and folders, bottom up, never following a link (only
    what was set up ahead and never written is empty; anything else stays)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for root, dirs, files in os.walk(folder, topdown=False, followlinks=False):
        for name in files:
            path = os.path.join(root, name)
            try:
                if not os.path.islink(path) and os.lstat(path).st_size == 0:
                    os.unlink(path)
            except OSError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(root, name))  # only when empty; a link is not a folder
            except OSError:
                pass
    try:
        os.rmdir(folder)
    except OSError:
        pass
