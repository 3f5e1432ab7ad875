"""What the command line prints about a failed run: its error once, and the failed step's
last log lines, with source paths instead of working-copy paths.

`amlocal run` prints it at the end of a failed run, on stderr next to the closing error line,
so that the cause is the last thing on the screen and is said once: the progress printed
while the run went on says only "Failed", and when the script's `wait_for_completion` raised,
the closing `amlocal: error: …` line carries the error, so this report leaves it out.
"""
from __future__ import annotations

import shlex
import sqlite3
import sys
from typing import Iterable, TextIO

from runner.engine.source_paths import SourcePaths
from store import status as st
from store.layout import StepRunFiles
from store.nofollow import UnsafeFileError, read_log
from store.records import StepRunRecord
from store.runs import get_pipeline_run, get_step_runs
from tui.formatting import shown

TAIL_LINES = 10


def last_log_lines(step: StepRunRecord, count: int = TAIL_LINES) -> list[str]:
    """The last `count` lines of what the step wrote to stderr, else stdout, else (a step that
    failed while being prepared) of its preparation log."""
    files = StepRunFiles(step.run_dir)
    for path in (files.stderr, files.stdout, files.preparation):
        try:
            lines = read_log(path).splitlines()
        except UnsafeFileError:
            continue
        if lines:
            return lines[-count:]
    return []


def report_failures(conn: sqlite3.Connection, run_ids: Iterable[str], with_error: bool = True,
                    out: TextIO | None = None) -> None:
    """For each failed run of `run_ids`: each failed step, its error (unless `with_error` is
    False: the caller prints it) and its last log lines; a run that failed with no failed
    step, its error."""
    out = out or sys.stderr
    paths = SourcePaths(conn)
    for run_id in run_ids:
        run = get_pipeline_run(conn, run_id)
        if run.status != st.FAILED:
            continue
        failed = [s for s in get_step_runs(conn, run_id) if s.status == st.FAILED]
        if not failed and with_error and run.error:
            out.write(shown(f"amlocal: run {run_id} failed: {run.error}") + "\n")
        for step in failed:
            rewrite = paths.rewriter(step)
            head = f"amlocal: step {step.name} failed"
            if with_error and step.error:
                head += f": {rewrite(step.error)}"
            lines = last_log_lines(step)
            if lines:
                head += (f"; the last lines of its log (`amlocal logs {run_id[:8]} "
                         f"{shlex.quote(step.name)}` prints all):")
            out.write(shown(head) + "\n")
            out.writelines(f"  {shown(rewrite(line))}\n" for line in lines)
        out.flush()


def with_source_paths(conn: sqlite3.Connection, run_ids: Iterable[str], text: str) -> str:
    """`text` (an error that quotes a step's error) with the working-copy paths of the failed
    steps of `run_ids` shown as their source paths."""
    paths = SourcePaths(conn)
    for run_id in run_ids:
        for step in get_step_runs(conn, run_id):
            if step.status == st.FAILED:
                text = paths.rewriter(step)(text)
    return text
