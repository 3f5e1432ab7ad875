"""Executing one step: snapshot, launch, live metric ingestion, limits, and its outcome."""
from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from runner.engine.ingest import EventIngestor
from runner.engine.progress import PREPARATION_LOG
from runner.engine.reuse import ReusePlanner, decide_step, record_reuse
from runner.engine.compute_limits import step_limits
from runner.engine.step_launch import PreparedStep, RunFacts, StepSetupError, prepare_step
from runner.errors import RunnerError
from runner.executors.base import Executor, RunningStep
from store import status as st
from store.artifacts import record_artifacts
from store.database import connect
from store.errors import StoreError
from store.runs import update_step_run
from store.snapshots import SnapshotStore

INGEST_SECONDS = 0.25
CANCEL_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class StepResult:
    """The final status of a step run and, unless it finished, why."""

    status: str
    error: str | None = None
    outputs: dict | None = None


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


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4096))
            lines = [line for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _collect_artifacts(conn, step_run_id: str, workdir: Path, artifacts_dir: Path) -> None:
    """Keep the step's `./outputs` and `./logs` with the files it uploaded and record them and
    its preparation log as artifacts: the rest of its private working copy is removed when the
    step ends, as Azure keeps only outputs and logs of a run's working directory."""
    for folder in ("outputs", "logs"):
        source, kept = workdir / folder, artifacts_dir / folder
        if not source.is_dir():
            continue
        if kept.exists():  # files uploaded under the same folder: merge
            shutil.copytree(source, kept, dirs_exist_ok=True)
        else:  # moved, not copied: a model of gigabytes costs nothing here
            artifacts_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(source, kept)
    files: list[tuple[str, Path]] = []
    preparation = artifacts_dir.parent / PREPARATION_LOG
    if preparation.exists():
        files.append(("azureml-logs/20_image_build_log.txt", preparation))
    if artifacts_dir.is_dir():
        files += [(p.relative_to(artifacts_dir).as_posix(), p)
                  for p in sorted(artifacts_dir.rglob("*")) if p.is_file()]
    if files:
        record_artifacts(conn, step_run_id, files)


class StepExecution:
    """Runs one step of a pipeline run to its end, recording everything on the way."""

    def __init__(self, facts: RunFacts, step: dict, step_run_id: str, run_dir: Path,
                 executor: Executor, snapshots: SnapshotCache, stop: threading.Event,
                 stop_reason: list[str], slot: threading.Event | None = None,
                 on_started: Callable[[], None] = lambda: None) -> None:
        self.facts = facts
        self.step = step
        self.step_run_id = step_run_id
        self.run_dir = run_dir
        self.executor = executor
        self.snapshots = snapshots
        self.stop = stop
        self.stop_reason = stop_reason
        # Set by the scheduler when a node of the compute target is free. Given one, the step
        # starts warm (its container up, its script held) and runs once the slot is set.
        self.slot = slot
        self.on_started = on_started  # told once the step's container or process is up
        self.phases: dict[str, float] = {}

    def _phase(self, name: str) -> dict[str, float]:
        """Note that phase `name` begins now; returns every phase so far (for phases_json)."""
        self.phases[name] = time.time()
        return dict(self.phases)

    def run(self) -> StepResult:
        conn = connect(self.facts.layout.db_path)
        try:
            return self._run(conn)
        except (RunnerError, StoreError) as exc:
            return self._end(conn, StepResult(st.FAILED, str(exc)))
        except Exception as exc:  # a bug of ours must not hang the run: fail the step, say why
            return self._end(conn, StepResult(st.FAILED, f"internal error: {type(exc).__name__}: {exc}"))
        finally:
            conn.close()

    def _end(self, conn, result: StepResult, exit_code: int | None = None) -> StepResult:
        update_step_run(conn, self.step_run_id, status=result.status, error=result.error,
                        exit_code=exit_code, end_time=time.time(), phases_json=self._phase("ended"))
        return result

    def _run(self, conn) -> StepResult:
        kind = self.step.get("kind")
        update_step_run(conn, self.step_run_id, status=st.QUEUED, executor=self.executor.name,
                        phases_json=self._phase("queued"))
        if kind not in ("python", "data_transfer"):
            job = self.step.get("databricks") or {}
            what = ("notebook " + job["notebook_path"]) if job.get("notebook_path") else \
                ("JAR class " + job["main_class_name"]) if job.get("main_class_name") else \
                ("DBFS script " + str(job.get("python_script_path")))
            return self._end(conn, StepResult(
                st.FAILED, f"{self.step['type']} runs {what} on Databricks, which amlocal cannot "
                "run locally; use python_script_name with source_directory to run it here"))
        layout = self.facts.layout
        store = SnapshotStore(layout.snapshots_dir, conn)
        snapshot_id = None
        if kind == "python":
            snapshot_id = self.step.get("snapshot_id") or self.snapshots.snapshot_id(
                store, self.step["source_directory"], (layout.root,))
        update_step_run(conn, self.step_run_id, snapshot_id=snapshot_id, status=st.PREPARING,
                        phases_json=self._phase("preparing"))
        build_log = self.run_dir / PREPARATION_LOG
        limits, notes = step_limits(conn, self.step)
        if notes:
            build_log.write_text("".join(f"limits: {note}\n" for note in notes))
        planner = ReusePlanner(conn, self.facts, self.facts.reuse_mode)
        decision, environment = decide_step(planner, self.executor, self.step, self.step_run_id,
                                            snapshot_id, build_log)
        update_step_run(conn, self.step_run_id, decision="reused" if decision.reused else "run",
                        reason=decision.reason, fingerprint=decision.fingerprint,
                        fingerprint_json={"fields": decision.fields, "about": decision.about},
                        properties_json=environment.facts)
        if decision.reused is not None:
            return self._reuse(conn, decision.reused, environment.facts)
        if kind == "data_transfer":
            return self._transfer(conn, planner)
        if self.stop.is_set():
            return self._end(conn, StepResult(st.CANCELED, self.stop_reason[0] if self.stop_reason else "canceled"))
        workdir = self.run_dir / "wd"
        store.materialize(snapshot_id, workdir)
        prepared = prepare_step(self.facts, self.step, self.step_run_id, self.run_dir, workdir,
                                self.executor, limits)
        prepared.invocation.image = environment.image
        update_step_run(conn, self.step_run_id, arguments_json=prepared.resolved_arguments,
                        outputs_json=prepared.outputs, phases_json=self._phase("starting"))
        ingestor = EventIngestor(conn, self.run_dir / "events.jsonl", self.step_run_id,
                                 self.facts.pipeline_run_id,
                                 {self.step_run_id: self.run_dir / "artifacts",
                                  self.facts.pipeline_run_id:
                                      layout.pipeline_run_dir(self.facts.pipeline_run_id) / "artifacts"})
        handle = self.executor.start(prepared.invocation, held=self.slot is not None)
        self.on_started()
        try:
            if self.slot is not None:
                update_step_run(conn, self.step_run_id, status=st.QUEUED,
                                phases_json=self._phase("waiting"))
                while not self.slot.wait(0.05):
                    if self.stop.is_set():
                        return self._end(conn, StepResult(st.CANCELED, self.stop_reason[0]))
                handle.release()
            return self._follow(conn, handle, prepared, ingestor, workdir, planner)
        finally:
            handle.close()
            shutil.rmtree(workdir, ignore_errors=True)  # the working copy, however the step ended

    def _follow(self, conn, handle: RunningStep, prepared: PreparedStep, ingestor: EventIngestor,
                workdir: Path, planner: ReusePlanner) -> StepResult:
        """Wait for the started step, ingesting its events, enforcing its time limit and stops."""
        started = time.time()
        update_step_run(conn, self.step_run_id, status=st.RUNNING, start_time=started,
                        process_id=handle.pid, process_create_time=handle.create_time,
                        phases_json=self._phase("running"))
        timeout = prepared.invocation.limits.timeout_seconds
        forced: str | None = None
        while True:
            outcome = handle.wait(INGEST_SECONDS)
            ingestor.poll()
            if outcome is not None:
                break
            if self.stop.is_set() and forced is None:
                forced = self.stop_reason[0] if self.stop_reason else "canceled"
                handle.stop(CANCEL_GRACE_SECONDS)
            elif timeout and time.time() - started > timeout and forced is None:
                forced = f"timed out after {timeout:g} s (max_run_duration_seconds)"
                handle.stop(CANCEL_GRACE_SECONDS)
        ingestor.poll()
        for local, target in prepared.uploads:
            shutil.copytree(local, target, dirs_exist_ok=True)
        _collect_artifacts(conn, self.step_run_id, workdir, self.run_dir / "artifacts")
        if forced is not None:
            status = st.CANCELED if not forced.startswith("timed out") else st.FAILED
            return self._end(conn, StepResult(status, forced), outcome.exit_code)
        if outcome.exit_code == 0:
            return self._finished(conn, planner, prepared.outputs, 0)
        detail = _last_line(prepared.invocation.stderr_path)
        reason = outcome.reason or f"exit code {outcome.exit_code}"
        return self._end(conn, StepResult(st.FAILED, f"{reason}: {detail}" if detail else reason),
                         outcome.exit_code)

    def _finished(self, conn, planner: ReusePlanner, outputs: dict[str, dict],
                  exit_code: int | None) -> StepResult:
        """Record the content of the outputs (what later runs compare) and finish."""
        outputs = planner.output_hashes(outputs, self.step_run_id, self.step["name"])
        update_step_run(conn, self.step_run_id, outputs_json=outputs)
        return self._end(conn, StepResult(st.FINISHED, None, outputs), exit_code)

    def _reuse(self, conn, reused, facts: dict[str, str]) -> StepResult:
        """Stand in for `reused`: its outputs go downstream; nothing executes."""
        outputs = record_reuse(conn, self.step_run_id, self.facts.pipeline_run_id, reused, facts)
        update_step_run(conn, self.step_run_id, phases_json=self._phase("ended"))
        return StepResult(st.FINISHED, None, outputs)

    def _transfer(self, conn, planner: ReusePlanner) -> StepResult:
        """DataTransferStep: copy the source data to the destination, here in the runner."""
        from runner.engine.step_launch import input_host_path, output_location
        from store.datastore_paths import resolve_in_datastore
        inp, out = self.step["inputs"][0], self.step["outputs"][0]
        source = input_host_path(self.facts, self.step, inp)
        datastore, path = output_location(self.facts, self.step_run_id, out)
        target = resolve_in_datastore(self.facts.layout.datastore_dir(datastore), path,
                                      what="destination")
        update_step_run(conn, self.step_run_id, status=st.RUNNING, start_time=time.time())
        if source.is_file() and self.step.get("destination_reference_type") != "directory":
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        elif source.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / source.name)
        else:
            shutil.copytree(source, target, dirs_exist_ok=True)
        outputs = {out["port"]: {"name": out["port"], "datastore": datastore, "path": path,
                                 "local_path": str(target)}}
        return self._finished(conn, planner, outputs, 0)
