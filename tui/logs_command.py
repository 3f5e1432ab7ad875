"""`amlocal logs RUN [STEP] [-f]`: a step's stdout and stderr, as the user needs to read them.

- A reused step ran nothing: its log is the one of the step run whose outputs it reused,
  printed after one line saying so.
- A step that failed while being prepared (its image built or pulled, its limits set) wrote
  nothing: its preparation log is what explains it.
- Working-copy paths are shown as source paths (`runner.engine.source_paths`); the stored
  logs are not changed.
- The exit status is 1 when a step shown failed, after one line on stderr with its error.
"""
from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path
from typing import TextIO

from runner.engine.liveness import reconcile_run
from runner.engine.progress import LogTail
from runner.engine.source_paths import SourcePaths
from store import status as st
from store.layout import StepRunFiles
from store.nofollow import read_log
from store.records import StepRunRecord
from store.runs import get_pipeline_run, get_step_run, get_step_runs, resolve_run_id
from tui.commands import open_existing, steps_named
from tui.formatting import shown


def original_of(conn: sqlite3.Connection, step: StepRunRecord) -> StepRunRecord:
    """The step run that actually ran for `step`: itself, or (reused) the step run it reused,
    followed through reuse of reuse."""
    seen = {step.id}
    while step.decision == "reused" and step.reused_step_run_id and step.reused_step_run_id not in seen:
        step = get_step_run(conn, step.reused_step_run_id)
        seen.add(step.id)
    return step


def reused_note(original: StepRunRecord) -> str:
    """The line printed before the log of the step run a reused step reused."""
    return f"(reused: the log of step run {original.id} of run {original.pipeline_run_id})"


def _say_failure(step: StepRunRecord, paths: SourcePaths) -> None:
    error = paths.rewriter(step)(step.error) if step.error else "no error recorded"
    print(shown(f"amlocal: step {step.name} failed: {error}"), file=sys.stderr, flush=True)


def _print_logs(conn: sqlite3.Connection, step: StepRunRecord, header: bool,
                paths: SourcePaths) -> None:
    if header:
        print(f"===== {step.name} ({step.status}) =====")
    source = original_of(conn, step)
    if source.id != step.id:
        print(reused_note(source))
    files = StepRunFiles(source.run_dir)
    rewrite = paths.rewriter(source)

    def write(text: str, stream: TextIO) -> None:
        if text and not text.endswith("\n"):
            text += "\n"  # the prompt, or the next step's header, on a line of its own
        stream.write(shown(rewrite(text)))
        stream.flush()
    out = read_log(files.stdout)
    write(out, sys.stdout)  # before stderr is read: a refused stderr still shows stdout
    err = read_log(files.stderr)
    if step.status == st.FAILED and not out and not err:
        write(read_log(files.preparation), sys.stdout)  # it failed before its process started
    write(err, sys.stderr)
    write(parallel_summary(files.artifacts), sys.stdout)


def parallel_summary(artifacts: Path) -> str:
    """For a ParallelRunStep, what its Azure-layout logs say: the last progress line, every
    failed mini-batch (logs/job_error.txt), and where each worker's log is; else ""."""
    logs = artifacts / "logs"
    if not (logs / "sys" / "master_role.txt").is_file():
        return ""
    lines = ["----- ParallelRunStep logs (kept with the step run, in Azure's layout) -----"]
    progress = [line for line in read_log(logs / "job_progress_overview.txt").splitlines() if line]
    if progress:
        lines.append(progress[-1])
    errors = read_log(logs / "job_error.txt").strip() if (logs / "job_error.txt").is_file() else ""
    if errors:
        lines += ["failed mini-batches (logs/job_error.txt):", errors]
    workers = sorted(p.relative_to(artifacts).as_posix() for p in (logs / "user").rglob("*")
                     if p.is_file() and not p.is_symlink()) if (logs / "user").is_dir() else []
    if workers:
        lines.append(f"worker logs ({len(workers)}): " + ", ".join(workers))
    return "\n".join(lines) + "\n"


def cmd_logs(run_prefix: str, step_name: str | None, follow: bool) -> int:
    """Print (or with `follow`, follow) the logs of one step or every step; 1 if one failed."""
    local = open_existing()
    conn = local.conn
    run_id = resolve_run_id(conn, run_prefix)
    paths = SourcePaths(conn)
    steps = steps_named(get_step_runs(conn, run_id), run_id, step_name, missing_ok=follow)
    if not follow:
        for s in steps:
            _print_logs(conn, s, header=len(steps) > 1 or step_name is None, paths=paths)
        failed = [s for s in steps if s.status == st.FAILED]
        for s in failed:
            _say_failure(s, paths)
        return 1 if failed else 0
    return _follow(local, run_id, step_name, paths)


class _FollowedStep:
    """What following one step keeps: its log tails, how it shows paths, whether it printed."""

    def __init__(self, conn: sqlite3.Connection, step: StepRunRecord, paths: SourcePaths,
                 prefix: str) -> None:
        self.source = original_of(conn, step)
        files = StepRunFiles(self.source.run_dir)
        self.files = files
        self.tails = (LogTail(files.stdout), LogTail(files.stderr))
        self.rewrite = paths.rewriter(self.source)
        self.prefix = prefix
        self.printed = False
        self.done = False
        if self.source.id != step.id:
            print(prefix + reused_note(self.source), flush=True)

    def emit(self, line: str, stream: object) -> None:
        print(self.prefix + shown(self.rewrite(line)), file=stream, flush=True)  # type: ignore[arg-type]
        self.printed = True

    def update(self, step: StepRunRecord) -> None:
        """Print what the step wrote since the last call; at its end, what is left (a
        failure before it started: its preparation log)."""
        final = step.status in st.TERMINAL
        out, err = self.tails
        for line in out.read_lines() + (out.flush_partial() if final else []):
            self.emit(line, sys.stdout)
        for line in err.read_lines() + (err.flush_partial() if final else []):
            self.emit(line, sys.stderr)
        if final and not self.done:
            self.done = True
            if step.status == st.FAILED and not self.printed:
                for line in read_log(self.files.preparation).splitlines():
                    self.emit(line, sys.stdout)


def _follow(local: object, run_id: str, step_name: str | None, paths: SourcePaths) -> int:
    conn = local.conn  # type: ignore[attr-defined]
    followed: dict[str, _FollowedStep] = {}
    while True:
        run = get_pipeline_run(conn, run_id)
        steps = steps_named(get_step_runs(conn, run_id), run_id, step_name,
                      missing_ok=run.status not in st.TERMINAL)
        for s in steps:
            if s.id not in followed:
                if s.decision is None and s.status not in st.TERMINAL:
                    continue  # not decided yet: reused or not, it is too early to say
                prefix = f"[{s.name}] " if step_name is None else ""
                followed[s.id] = _FollowedStep(conn, s, paths, prefix)
            followed[s.id].update(s)
        if run.status in st.TERMINAL or (step_name and steps and
                                         all(s.status in st.TERMINAL for s in steps)):
            failed = [s for s in steps if s.status == st.FAILED]
            for s in failed:
                _say_failure(s, paths)
            return 1 if failed else 0
        time.sleep(0.2)
        reconcile_run(conn, local.layout, run_id)  # type: ignore[attr-defined]
