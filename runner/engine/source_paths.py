"""Showing a step's paths as the user's source paths, for display only.

A step runs in a private working copy of its snapshot: `<workspace>/runs/<run>/<step>/wd/`
on this machine, `/amlocal/workspace/runs/<run>/<step>/wd/` in a container. Its tracebacks
name those paths, which mean nothing to the user; `steps/train.py` does. What prints a step's
log or error (the progress of `wait_for_completion`, `amlocal logs`, `amlocal run`) rewrites
the working-copy prefix to the step's `source_directory`, relative to the current folder when
it is inside it. The stored logs are never changed.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable

from store.records import StepRunRecord

WORKSPACE_IN_CONTAINER = "/amlocal/workspace"  # where the Docker executor mounts the workspace


def shown_folder(folder: Path, base: Path | None = None) -> str:
    """`folder` relative to `base` (default: the current folder) when inside it, else as is."""
    try:
        here = Path(base or os.getcwd()).resolve()
    except OSError:  # the current folder is gone
        return str(folder)
    if folder == here:
        return "."
    return folder.relative_to(here).as_posix() if folder.is_relative_to(here) else str(folder)


def working_copy_prefixes(step: StepRunRecord) -> tuple[str, str]:
    """The working-copy folder of `step` as the step saw it: on this machine, in a container."""
    local = str(Path(step.run_dir) / "wd")
    container = f"{WORKSPACE_IN_CONTAINER}/runs/{step.pipeline_run_id}/{step.id}/wd"
    return local, container


class SourcePaths:
    """Rewrites the working-copy paths in a step's log lines to its source paths."""

    def __init__(self, conn: sqlite3.Connection, base: Path | None = None) -> None:
        self.conn = conn
        self.base = base
        self._sources: dict[str, dict[str, str]] = {}  # pipeline run -> node id -> source dir

    def _source_directory(self, step: StepRunRecord) -> str | None:
        run_id = step.pipeline_run_id
        if run_id not in self._sources:
            self._sources[run_id] = self._load(run_id)
        return self._sources[run_id].get(step.node_id)

    def _load(self, run_id: str) -> dict[str, str]:
        from store.catalog import get_pipeline
        from store.errors import StoreError
        from store.runs import get_pipeline_run
        try:
            spec = get_pipeline(self.conn, get_pipeline_run(self.conn, run_id).pipeline_id).spec
        except (StoreError, sqlite3.Error):
            return {}
        steps = spec.get("steps", []) if isinstance(spec, dict) else []
        return {s["node_id"]: s["source_directory"] for s in steps
                if isinstance(s, dict) and s.get("node_id") and s.get("source_directory")}

    def rewriter(self, step: StepRunRecord) -> Callable[[str], str]:
        """A function that shows `text` of `step` (a log line, its error) with the working
        copy's paths as source paths; the identity when the step's source is unknown."""
        source = self._source_directory(step)
        if source is None:
            return lambda text: text
        shown = shown_folder(Path(source), self.base)
        pairs = [(prefix + "/", shown + "/") for prefix in working_copy_prefixes(step)]

        def rewrite(text: str) -> str:
            for old, new in pairs:
                if old in text:
                    text = text.replace(old, new)
            return text
        return rewrite
