"""Following a pipeline run from the store: status changes and new log lines, as printed by
`PipelineRun.wait_for_completion(show_output=True)` and `amlocal run`."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable, TextIO

from runner.engine.source_paths import SourcePaths
from store import status as st
from store.layout import StepRunFiles
from store.nofollow import UnsafeFileError, read_bytes
from store.records import PipelineRunRecord, StepRunRecord
from store.runs import get_pipeline_run, get_step_runs

POLL_SECONDS = 0.2


class LogTail:
    """Reads the lines appended to a file since the last read (partial lines wait)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self._partial = b""
        self._refused = False

    def read_lines(self) -> list[str]:
        try:
            data = read_bytes(self.path, "the step run folder", self.offset)
        except FileNotFoundError:
            return []
        except UnsafeFileError as exc:  # a step swapped its log for a link or a FIFO: say so once
            if self._refused:
                return []
            self._refused = True
            return [f"[amlocal: {self.path.name} not shown: {exc}]"]
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        return [line.decode("utf-8", errors="replace") for line in lines]

    def flush_partial(self) -> list[str]:
        rest, self._partial = self._partial, b""
        return [rest.decode("utf-8", errors="replace")] if rest else []


class ProgressPrinter:
    """Prints a run's step status changes and step output until the run ends."""

    def __init__(self, conn: sqlite3.Connection, run_id: str, out: TextIO | None,
                 only_step: str | None = None) -> None:
        self.conn = conn
        self.run_id = run_id
        self.out = out
        self.only_step = only_step
        self._status: dict[str, str] = {}
        self._decided: set[str] = set()
        self._tails: dict[str, tuple[LogTail, ...]] = {}
        self._paths = SourcePaths(conn)  # log lines name source paths, not the working copy
        self._rewrite: dict[str, Callable[[str], str]] = {}

    def _print(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    def _step_update(self, step: StepRunRecord) -> None:
        name, sid, status = step.name, step.id, step.status
        if step.decision == "run" and sid not in self._decided:
            self._decided.add(sid)
            self._print(f"StepRun( {name} ) {step.reason}")
        changed = self._status.get(sid) != status
        self._status[sid] = status
        if changed and status not in st.TERMINAL:
            self._print_status(step)  # "Running" before the lines it printed while running
        tails = self._tails.get(sid)
        if tails is None and status != st.NOT_STARTED:
            # The preparation log (limits, image build) first: it is written before the step starts.
            tails = self._tails[sid] = tuple(LogTail(f) for f in StepRunFiles(step.run_dir).logs)
        if tails is not None:
            rewrite = self._rewrite.get(sid)
            if rewrite is None:
                rewrite = self._rewrite[sid] = self._paths.rewriter(step)
            for tail in tails:
                for line in tail.read_lines() + (tail.flush_partial() if status in st.TERMINAL else []):
                    self._print(f"[{name}] {rewrite(line)}")
        if changed and status in st.TERMINAL:
            self._print_status(step)  # "Finished" after its last lines

    def _print_status(self, step: StepRunRecord) -> None:
        status = step.status
        if status == st.NOT_STARTED:
            return
        line = f"StepRun( {step.name} ) Status: {status}"
        if status == st.RUNNING:
            line = f"StepRunId: {step.id}\n{line}"
        if status == st.FINISHED and step.decision == "reused":
            line += f"  ({step.reason})"
        if status == st.CANCELED and step.error:  # a failure's error is said once, by the caller
            line += f"  ({step.error})"
        self._print(line)

    def follow(self, timeout_seconds: float, reconcile: Callable[[], object] | None = None) -> str:
        """Print progress until the run (or the followed step) ends; returns the run status."""
        run = get_pipeline_run(self.conn, self.run_id)
        self._print(f"PipelineRunId: {self.run_id}")
        self._print(f"PipelineRun Status: {run.status}")
        deadline = time.monotonic() + timeout_seconds if timeout_seconds < 1e12 else None
        last_reconcile = 0.0
        delay = 0.01
        while True:
            if reconcile is not None and time.monotonic() - last_reconcile > 1.0:
                reconcile()
                last_reconcile = time.monotonic()
            run = get_pipeline_run(self.conn, self.run_id)
            steps = get_step_runs(self.conn, self.run_id)
            for step in steps:
                if self.only_step is None or step.id == self.only_step:
                    self._step_update(step)
            done = run.status in st.TERMINAL
            if self.only_step is not None:
                done = done or any(s.id == self.only_step and s.status in st.TERMINAL for s in steps)
            if done:
                break
            if deadline is not None and time.monotonic() > deadline:
                self._print(f"Timed out waiting for run {self.run_id}; it goes on in the background")
                return run.status
            time.sleep(delay)
            delay = min(POLL_SECONDS, delay * 1.5)  # quick at first: short runs end quickly
        self._summary(run, steps)
        return run.status

    def _summary(self, run: PipelineRunRecord, steps: list[StepRunRecord]) -> None:
        self._print("")
        self._print("PipelineRun Execution Summary")
        self._print("==============================")
        self._print(f"PipelineRun( Name: {run.experiment_name}, Id: {self.run_id} ) "
                    f"Status: {run.status}")
        for s in steps:
            took = f"{s.end_time - s.start_time:.2f}s" if s.start_time and s.end_time else "-"
            extra = f"  {s.error}" if s.error and s.status not in (st.FINISHED, st.FAILED) else ""
            self._print(f"  {s.name:<24} {s.status:<10} {took:>9}".rstrip() + extra)
        if run.error and run.status != st.FINISHED and not any(s.status == st.FAILED for s in steps):
            self._print(f"Error: {run.error}")  # a step's failure is said once, by the caller
