"""Gathering what reuse decisions are made of: snapshots, environment identities, input
content, and the run history they are compared with. This module reads (and hashes); it
decides nothing (`runner.engine.reuse`) and records nothing (`runner.engine.run_plan`).

Content mode (the default) hashes every input's data; Azure mode (workspace setting `reuse
azure`) identifies datastore inputs by path and upstream outputs by the step run that wrote
them, as the service does.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from runner.engine.fingerprint import describe_changes
from runner.engine.reuse import StepFacts
from runner.engine.run_context import AZURE_MODE, CONTENT_MODE, RunContext
from runner.executors.base import Executor, ResolvedEnvironment
from runner.spec import StepSpec
from store.content import ContentIndex, changed_files
from store.errors import StoreError
from store.records import StepRunRecord, StoredOutput
from store.runs import closest_earlier_step_run, reusable_step_runs
from store.snapshots import SnapshotStore

DATA_TRANSFER_ENVIRONMENT = ResolvedEnvironment("the runner copies the data", None, {})


class SnapshotCache:
    """One snapshot per source directory per pipeline run (steps often share a folder)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}

    def snapshot_id(self, store: SnapshotStore, source_directory: str, exclude: tuple[Path, ...]) -> str:
        with self._lock:
            if source_directory not in self._ids:
                self._ids[source_directory] = store.take(Path(source_directory), exclude).id
            return self._ids[source_directory]


class StoreHistory:
    """The run history of a workspace, as `runner.engine.reuse.decide` reads it."""

    def __init__(self, conn: sqlite3.Connection, ctx: RunContext) -> None:
        self.conn = conn
        self.ctx = ctx
        self.content = ContentIndex(conn, ctx.layout.manifests_dir)
        self.snapshots = SnapshotStore(ctx.layout.snapshots_dir, conn)

    def candidates(self, fingerprint: str) -> list[StepRunRecord]:
        return reusable_step_runs(self.conn, fingerprint, self.ctx.run_id)

    def outputs_problem(self, candidate: StepRunRecord) -> str | None:
        for port, out in candidate.outputs.items():
            if not out.local_path.exists():
                return f"output {port} of {candidate.label} is gone"
            if out.content_hash and self.content.tree(out.local_path, f"output {port}").hash \
                    != out.content_hash:
                return f"output {port} of {candidate.label} was modified after it finished"
        return None

    def closest_earlier(self, name: str, step_run_id: str) -> StepRunRecord | None:
        return closest_earlier_step_run(self.conn, name, step_run_id, self.ctx.run.experiment_name)

    def describe(self, old: Mapping, new: Mapping, about_old: Mapping, about_new: Mapping,
                 detail: bool = False) -> list[str]:
        return describe_changes(old, new, about_old, about_new, self._source_changes,
                                self._input_changes, detail)

    def _source_changes(self, old: str | None, new: str | None) -> list[str]:
        try:
            before = {e.path: e.sha256 for e in self.snapshots.load(old).entries} if old else {}
            after = {e.path: e.sha256 for e in self.snapshots.load(new).entries} if new else {}
        except StoreError:
            return []
        return changed_files(before, after)

    def _input_changes(self, old: str, new: str) -> list[str] | None:
        if not (old.startswith("sha256:") and new.startswith("sha256:")):
            return None
        return changed_files(self.content.manifest(old[7:]), self.content.manifest(new[7:]))

    def finished_outputs(self, outputs: Mapping[str, StoredOutput], step_run_id: str,
                         step_name: str, canceled: Callable[[], bool] | None = None
                         ) -> dict[str, StoredOutput]:
        """`outputs` with their content hash and producer, as a step records them when it ends
        (hashing stops, raising `Canceled`, once `canceled()` says so)."""
        return {port: StoredOutput(out.name, out.datastore, out.path, out.local_path,
                                   self.content.tree(out.local_path, f"output {port}",
                                                     canceled).hash, step_run_id, step_name)
                for port, out in outputs.items()}


class FactGatherer:
    """Gathers the facts of steps of one run: their snapshots, environments and input content."""

    def __init__(self, history: StoreHistory, executor: Executor, snapshots: SnapshotCache) -> None:
        self.history = history
        self.ctx = history.ctx
        self.executor = executor
        self.snapshots = snapshots

    def snapshot_id(self, step: StepSpec) -> str | None:
        """The snapshot a Python step runs from (a module version brings its own)."""
        if not step.runs_script:
            return None
        if step.snapshot_id:
            return step.snapshot_id
        return self.snapshots.snapshot_id(self.history.snapshots, step.source_directory or ".",
                                          (self.ctx.layout.root,))

    def environment(self, step: StepSpec, log_path: Path) -> ResolvedEnvironment:
        """The step's environment made ready by the executor (logging to `log_path`)."""
        if not step.runs_script:
            return DATA_TRANSFER_ENVIRONMENT
        return self.executor.resolve_environment(step.environment, log_path)

    def gather(self, step: StepSpec, snapshot_id: str | None,
               environment: ResolvedEnvironment) -> StepFacts:
        """Everything `step`'s fingerprint is made of (its upstream outputs must be known)."""
        inputs, about = self._inputs(step)
        if environment.label:
            about["environment"] = environment.label
        identity = (environment.identity if self.ctx.reuse_mode == CONTENT_MODE
                    else step.environment.identity() if step.runs_script
                    else environment.identity)
        return StepFacts(snapshot_id, environment, identity, inputs, about)

    def _inputs(self, step: StepSpec) -> tuple[dict[str, str], dict[str, Any]]:
        """Each input port's content id, and where it comes from (for the reasons)."""
        ids: dict[str, str] = {}
        about: dict[str, dict] = {}
        for inp in map(self.ctx.resolved_input, step.inputs):
            produced = self.ctx.produced(inp)
            if inp.source.type == "step_output":
                origin = produced.step_name if produced and produced.step_name else inp.source.node
                about[inp.port] = {"from": f"step {origin}"}
                ids[inp.port] = (f"run:{produced.producer if produced else None}/{inp.source.output}"
                                 if self.ctx.reuse_mode == AZURE_MODE
                                 else f"sha256:{produced.content_hash if produced else None}")
                continue
            path = self.ctx.input_path(inp)
            where = inp.source.where
            if self.ctx.reuse_mode == AZURE_MODE:
                ids[inp.port] = f"path:{where}"
                about[inp.port] = {"from": f"datastore {where}"}
            else:
                tree = self.history.content.tree(path, f"input {inp.port}")
                ids[inp.port] = f"sha256:{tree.hash}"
                about[inp.port] = {"from": f"datastore {where}", "files": tree.files}
            if inp.dataset_view is not None and inp.dataset_view.get("asset"):
                about[inp.port]["dataset"] = inp.dataset_view["asset"]
        return ids, {"inputs": about}
