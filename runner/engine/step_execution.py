"""Executing one step: its environment, its reuse decision if not made at submit, launch, live
metric ingestion, limits, and its outcome."""
from __future__ import annotations

import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from runner.engine.compute_limits import step_limits
from runner.engine.ingest import EventIngestor
from runner.engine.reuse import decide
from runner.engine.run_context import RunContext
from runner.engine.run_plan import RUNNABLE_KINDS, record_decision, record_reuse
from runner.engine.step_facts import FactGatherer, SnapshotCache, StoreHistory
from runner.engine.registry_launch import (RegistryAssets, apply_registrations, environment_asset,
                                           register_outputs)
from runner.engine.step_launch import PreparedStep, prepare_step
from runner.engine.step_outputs import check_outputs, collect_artifacts, copy_uploads
from runner.errors import RunnerError
from runner.executors.base import Executor, ResolvedEnvironment, RunningStep
from runner.spec import StepSpec
from store import status as st
from store.database import connect
from store.datastore_paths import resolve_in_datastore
from store.disk_space import NO_SPACE, SpaceReserve, is_disk_full, no_space_message
from store.errors import StoreError
from store.nofollow import Canceled, UnsafeFileError, copy_tree
from store.records import StepRunRecord, StoredOutput
from store.registry import record_use
from store.runs import update_step_run
from store.snapshots import SnapshotStore

INGEST_SECONDS = 0.25
CANCEL_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class StepResult:
    """The final status of a step run, why (unless it finished), and the outputs it hands on."""

    status: str
    error: str | None = None
    outputs: Mapping[str, StoredOutput] | None = None


class StopSignal:
    """Set once when a run must stop; keeps the first reason given."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason: str | None = None
        self._lock = threading.Lock()

    def set(self, reason: str) -> None:
        with self._lock:
            if self._reason is None:
                self._reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> str:
        return self._reason or "canceled"


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4096))
            lines = [line for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


class StepExecution:
    """Runs one step of a pipeline run to its end, recording everything on the way."""

    def __init__(self, ctx: RunContext, step: StepSpec, record: StepRunRecord, executor: Executor,
                 snapshots: SnapshotCache, stop: StopSignal, slot: threading.Event | None = None,
                 on_started: Callable[[], None] = lambda: None) -> None:
        self.ctx = ctx
        self.step = step
        self.record = record
        self.step_run_id = record.id
        self.files = ctx.step_files(record.id)
        self.executor = executor
        self.snapshots = snapshots
        self.stop = stop
        # Set by the scheduler when a node of the compute target is free. Given one, the step
        # starts warm (its container up, its script held) and runs once the slot is set.
        self.slot = slot
        self.on_started = on_started  # told once the step's container or process is up
        self.phases: dict[str, float] = dict(record.phases)
        self._ingestor: EventIngestor | None = None

    @property
    def canceled_by_me(self) -> str:
        """The reason a run stops with when this step calls `run.parent.cancel()`."""
        return f"canceled by step {self.step.name}"

    def _phase(self, name: str) -> dict[str, float]:
        """Note that phase `name` begins now; returns every phase so far."""
        self.phases[name] = time.time()
        return dict(self.phases)

    def run(self) -> StepResult:
        """Run the step (on a connection of its own); any error ends it Failed, with why."""
        conn = connect(self.ctx.layout.db_path)
        try:
            return self._run(conn)
        except Canceled:
            return self._end(conn, StepResult(st.CANCELED, self.stop.reason))
        except Exception as exc:
            if is_disk_full(exc):
                return self._out_of_space(conn, exc)
            if isinstance(exc, (RunnerError, StoreError)):
                return self._end(conn, StepResult(st.FAILED, str(exc)))
            # a bug of ours must not hang the run: fail the step, say why
            return self._end(conn, StepResult(st.FAILED, f"internal error: {type(exc).__name__}: {exc}"))
        finally:
            conn.close()

    def _out_of_space(self, conn: sqlite3.Connection, exc: BaseException) -> StepResult:
        """The disk filled up: with the step stopped and its working copy gone, give up the
        workspace's space reserve, store what is left of its event file, fail it saying so and
        stop the run (every other step would hit the same wall)."""
        layout = self.ctx.layout
        doing = "writing the workspace database" if not isinstance(exc, OSError) else (
            f"writing {exc.filename}" if exc.filename else "writing the step's files")
        reason = no_space_message(layout.root, doing)  # the free space before any is given back
        self.stop.set(reason)
        SpaceReserve(layout.root).release()
        shutil.rmtree(self.files.workdir, ignore_errors=True)
        try:  # the runner's log (or the watcher's terminal); it may be on the full disk too
            print(f"amlocal runner: step {self.step.name} failed: {reason}", file=sys.stderr)
        except OSError:
            pass
        if self._ingestor is not None:
            try:
                self._ingestor.poll()
            except Exception as again:
                if not is_disk_full(again):
                    raise
        return self._end(conn, StepResult(st.FAILED, reason))

    def _end(self, conn: sqlite3.Connection, result: StepResult, exit_code: int | None = None) -> StepResult:
        update_step_run(conn, self.step_run_id, status=result.status, error=result.error,
                        exit_code=exit_code, end_time=time.time(), phases=self._phase("ended"))
        return result

    def _run(self, conn: sqlite3.Connection) -> StepResult:
        step = self.step
        self.files.root.mkdir(parents=True, exist_ok=True)
        update_step_run(conn, self.step_run_id, status=st.QUEUED, executor=self.executor.name,
                        phases=self._phase("queued"))
        if step.kind not in RUNNABLE_KINDS:
            return self._end(conn, StepResult(st.FAILED, _databricks_refusal(step)))
        gatherer = FactGatherer(StoreHistory(conn, self.ctx), self.executor, self.snapshots)
        snapshot_id = self.record.snapshot_id or gatherer.snapshot_id(step)
        update_step_run(conn, self.step_run_id, snapshot_id=snapshot_id, status=st.PREPARING,
                        phases=self._phase("preparing"))
        limits, notes = step_limits(conn, step)
        if notes:
            self.files.preparation.write_text("".join(f"limits: {note}\n" for note in notes))
        environment = gatherer.environment(step, self.files.preparation)
        if self.record.decision is None:  # it waited for an upstream step: decide now
            facts = gatherer.gather(step, snapshot_id, environment)
            decision = decide(step, facts, self.ctx.parameters, gatherer.history,
                              step_run_id=self.step_run_id, regenerate=self.ctx.run.regenerate_outputs,
                              forced=self.ctx.forced_reason(step.node_id))
            record_decision(conn, self.step_run_id, self.executor.name, snapshot_id, decision,
                            environment)
            if decision.reused is not None:
                outputs = record_reuse(conn, self.ctx, self.step_run_id, decision.reused, environment)
                update_step_run(conn, self.step_run_id, phases=self._phase("ended"))
                return StepResult(st.FINISHED, None, outputs)
        if step.kind == "data_transfer":
            return self._transfer(conn, gatherer.history)
        if self.stop.is_set():
            return self._end(conn, StepResult(st.CANCELED, self.stop.reason))
        return self._execute(conn, gatherer.history, snapshot_id, environment, limits)

    def _execute(self, conn: sqlite3.Connection, history: StoreHistory, snapshot_id: str | None,
                 environment: ResolvedEnvironment, limits) -> StepResult:
        workdir = self.files.workdir
        keep = False  # a failed step's working copy stays, for `amlocal debug` (until `gc`)
        try:
            SnapshotStore(self.ctx.layout.snapshots_dir, conn).materialize(snapshot_id or "", workdir)
            assets = RegistryAssets.load(conn)
            prepared = prepare_step(self.ctx, self.step, self.step_run_id, self.files, self.executor,
                                    environment, limits, snapshot_id, assets)
            used_environment = environment_asset(assets, self.step)
            if used_environment is not None:  # lineage: this step ran in that version
                record_use(conn, used_environment.id, self.step_run_id, self.ctx.run_id)
            update_step_run(conn, self.step_run_id, arguments=prepared.resolved_arguments,
                            outputs=prepared.outputs, phases=self._phase("starting"))
            ingestor = EventIngestor(conn, self.files.events, self.step_run_id, self.ctx.run_id,
                                     {self.step_run_id: self.files.artifacts,
                                      self.ctx.run_id: self.ctx.layout.run_artifacts_dir(self.ctx.run_id)},
                                     on_cancel=lambda: self.stop.set(self.canceled_by_me))
            self._ingestor = ingestor
            handle = self.executor.start(prepared.invocation, held=self.slot is not None)
            self.on_started()
            try:
                if self.slot is not None:
                    update_step_run(conn, self.step_run_id, status=st.QUEUED,
                                    phases=self._phase("waiting"))
                    while not self.slot.wait(0.05):
                        if self.stop.is_set():
                            return self._end(conn, StepResult(st.CANCELED, self.stop.reason))
                    handle.release()
                result = self._follow(conn, handle, prepared, ingestor, history)
                keep = result.status == st.FAILED and not (result.error or "").startswith(NO_SPACE)
                return result
            finally:
                handle.close()
        except BaseException as exc:
            # it fails the step (run() says why), unless it cancels it or fills the disk, whose
            # handler frees the working copy
            keep = not isinstance(exc, Canceled) and not is_disk_full(exc)
            raise
        finally:
            if not keep:  # finished or canceled: the working copy goes
                shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(self.files.registrations, ignore_errors=True)  # registered or refused

    def _follow(self, conn: sqlite3.Connection, handle: RunningStep, prepared: PreparedStep,
                ingestor: EventIngestor, history: StoreHistory) -> StepResult:
        """Wait for the started step, ingesting its events, enforcing its time limit and stops."""
        started = time.time()
        update_step_run(conn, self.step_run_id, status=st.RUNNING, start_time=started,
                        process_id=handle.pid, process_create_time=handle.create_time,
                        phases=self._phase("running"))
        timeout = prepared.invocation.limits.timeout_seconds
        forced: str | None = None
        while True:
            outcome = handle.wait(INGEST_SECONDS)
            ingestor.poll()
            if outcome is not None:
                break
            if self.stop.is_set() and forced is None:
                forced = self.stop.reason
                handle.stop(CANCEL_GRACE_SECONDS)
            elif timeout and time.time() - started > timeout and forced is None:
                forced = f"timed out after {timeout:g} s (max_run_duration_seconds)"
                handle.stop(CANCEL_GRACE_SECONDS)
        ingestor.poll()
        if ingestor.canceled_run and forced is None:
            forced = self.canceled_by_me  # it asked to stop the run, so it never counts as done
        unsafe = self._take_in(conn, prepared)
        if forced is not None:
            status = st.CANCELED if not forced.startswith("timed out") else st.FAILED
            return self._end(conn, StepResult(status, forced), outcome.exit_code)
        if unsafe is not None:
            return self._end(conn, StepResult(st.FAILED, unsafe), outcome.exit_code)
        if outcome.exit_code == 0:
            refused = apply_registrations(conn, self.ctx.layout, self.files, self.step_run_id,
                                          self.ctx.run_id, ingestor.registrations)
            if refused is not None:
                return self._end(conn, StepResult(st.FAILED, refused), 0)
            return self._finished(conn, history, prepared.outputs, 0)
        detail = _last_line(prepared.invocation.files.stderr)
        reason = outcome.reason or f"exit code {outcome.exit_code}"
        if "[Errno 28]" in detail or "No space left on device" in detail:
            return self._end(conn, StepResult(st.FAILED, f"{NO_SPACE} ({reason}: {detail})"),
                             outcome.exit_code)
        return self._end(conn, StepResult(st.FAILED, f"{reason}: {detail}" if detail else reason),
                         outcome.exit_code)

    def _take_in(self, conn: sqlite3.Connection, prepared: PreparedStep) -> str | None:
        """Keep the step's artifacts and copy its upload-mode outputs, never following a link
        it planted; returns why the step fails when one of them holds one (or a FIFO, …)."""
        problems = []
        try:
            collect_artifacts(conn, self.step_run_id, self.files)
        except UnsafeFileError as exc:
            problems.append(str(exc))
        try:
            check_outputs(prepared.outputs, prepared.uploads)
            copy_uploads(prepared.uploads, self.ctx.layout.datastores_dir,
                         {out.local_path: port for port, out in prepared.outputs.items()})
        except UnsafeFileError as exc:
            problems.append(str(exc))
        return "; ".join(problems) or None

    def _finished(self, conn: sqlite3.Connection, history: StoreHistory,
                  outputs: Mapping[str, StoredOutput], exit_code: int | None) -> StepResult:
        """Record the content of the outputs (what later runs compare), register the outputs
        that ask for it, and finish."""
        finished = history.finished_outputs(outputs, self.step_run_id, self.step.name,
                                            canceled=self.stop.is_set)
        update_step_run(conn, self.step_run_id, outputs=finished)
        refused = register_outputs(conn, self.ctx.layout, self.step, finished,
                                   (self.step_run_id, self.ctx.run_id))
        if refused is not None:
            return self._end(conn, StepResult(st.FAILED, refused), exit_code)
        return self._end(conn, StepResult(st.FINISHED, None, finished), exit_code)

    def _transfer(self, conn: sqlite3.Connection, history: StoreHistory) -> StepResult:
        """DataTransferStep: copy the source data to the destination, here in the runner."""
        inp, out = self.step.inputs[0], self.step.outputs[0]
        source = self.ctx.input_path(inp)
        datastore, path = self.ctx.output_location(self.step_run_id, out)
        target = resolve_in_datastore(self.ctx.layout.datastore_dir(datastore), path,
                                      what="destination")
        update_step_run(conn, self.step_run_id, status=st.RUNNING, start_time=time.time())
        root = self.ctx.layout.datastore_dir(datastore).resolve()
        rel = target.relative_to(root)
        if source.is_file() and self.step.destination_reference_type == "directory":
            rel = rel / source.name
        copy_tree(source, root, rel, f"input {inp.port}", f"output {out.port}")
        outputs = {out.port: StoredOutput(out.port, datastore, path, target)}
        return self._finished(conn, history, outputs, 0)


def _databricks_refusal(step: StepSpec) -> str:
    """Why a Databricks job cannot run here, naming what it runs."""
    job = step.databricks or {}
    what = ("notebook " + job["notebook_path"]) if job.get("notebook_path") else \
        ("JAR class " + job["main_class_name"]) if job.get("main_class_name") else \
        ("DBFS script " + str(job.get("python_script_path")))
    return (f"{step.type} runs {what} on Databricks, which amlocal cannot run locally; use "
            "python_script_name with source_directory to run it here")
