"""Moving what a step logged (its event file) into SQLite while it runs, in batches."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Callable

from store.artifacts import record_artifacts
from store.database import transaction
from store.errors import StoreError
from store.metrics import insert_metrics
from store.nofollow import open_file_beneath
from store.registry import record_use
from store.runs import advance_events_offset, events_offset, merge_run_json

METRIC_KINDS = frozenset({"scalar", "list", "row", "table", "image"})


class EventIngestor:
    """Reads new complete lines of one step's event file and stores them.

    A `register` event (a model or dataset the step registers) is kept in `registrations`
    for the runner to apply if the step succeeds; an `asset_use` is stored at once.

    A `cancel` event of the pipeline run (the step called `run.parent.cancel()`) is not
    stored: it sets `canceled_run` and calls `on_cancel`, which stops the run.

    It starts where the step run's stored offset says and advances that offset in the
    transaction that stores the events, so a runner killed between two polls loses nothing
    and whoever reconciles the run afterwards ingests the rest without storing any twice.
    """

    def __init__(self, conn: sqlite3.Connection, events_path: Path, step_run_id: str,
                 pipeline_run_id: str, artifact_dirs: dict[str, Path],
                 on_cancel: Callable[[], None] | None = None) -> None:
        self.conn = conn
        self.path = events_path
        self.step_run_id = step_run_id
        self.pipeline_run_id = pipeline_run_id
        self.artifact_dirs = artifact_dirs
        self.offset = events_offset(conn, step_run_id)
        self.ingested = 0
        self.bad_lines = 0
        self.on_cancel = on_cancel
        self.canceled_run = False
        self.refused = 0  # artifact events naming no regular file of the run's own artifacts
        self.registrations: list[dict] = []  # models and datasets the step asked to register

    def poll(self) -> int:
        """Store every complete event appended since the last call; returns how many."""
        try:
            with open(self.path, "rb") as f:  # the runner's own file: a step cannot replace it
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return 0
        end = data.rfind(b"\n")
        if end < 0:
            return 0
        text = data[:end].decode("utf-8", errors="replace")
        with transaction(self.conn):
            if not advance_events_offset(self.conn, self.step_run_id, self.offset,
                                         self.offset + end + 1):
                self.offset = events_offset(self.conn, self.step_run_id)  # ingested elsewhere
                return self.ingested
            self._store(text)
        self.offset += end + 1
        return self.ingested

    def _store(self, text: str) -> None:
        """Store the events of `text` (inside the caller's transaction)."""
        points: list[tuple] = []  # (run_id, name, kind, value, logged_at), as insert_metrics takes
        append = points.append
        mine = (self.step_run_id, self.pipeline_run_id)
        for event in self._parse(text):
            run_id, kind = event.get("run"), event.get("kind")
            if run_id not in mine or not isinstance(event.get("name"), str):
                self.bad_lines += 1  # not this step's, or no metric a store can keep: skipped
                continue
            if kind in METRIC_KINDS:
                value = event.get("value")
                append((run_id, event.get("name"), kind, value, event.get("t", 0.0)))
                if kind == "image":
                    self._other(run_id, "artifact", str(value), value)
                    self.ingested -= 1
            else:
                self._flush(points)
                points.clear()
                self._other(run_id, kind, event.get("name"), event.get("value"))
        self._flush(points)

    def _parse(self, text: str) -> list[dict]:
        events, bad = parse_events(text)
        self.bad_lines += bad
        return events

    def _flush(self, points: list[tuple]) -> None:
        if points:
            self.ingested += insert_metrics(self.conn, points)

    def _other(self, run_id: str, kind: str, name: str, value: object) -> None:
        if kind == "tag":
            merge_run_json(self.conn, run_id, "tags", {name: str(value)})
        elif kind == "property":
            merge_run_json(self.conn, run_id, "properties", {name: str(value)})
        elif kind == "cancel" and run_id == self.pipeline_run_id:
            self.canceled_run = True
            if self.on_cancel is not None:
                self.on_cancel()
        elif kind == "register" and run_id == self.step_run_id and isinstance(value, dict):
            self.registrations.append({**value, "kind": name})  # applied if the step succeeds
        elif kind == "asset_use":
            record_use(self.conn, str(value), self.step_run_id, self.pipeline_run_id)
        elif kind == "artifact":
            path = kept_file(self.artifact_dirs[run_id], str(value))
            if path is None:
                self.refused += 1
            else:
                record_artifacts(self.conn, run_id, [(str(name), path)])
        self.ingested += 1


def kept_file(artifacts: Path, name: str) -> Path | None:
    """The regular file `name` names below the artifacts folder `artifacts`, or None when it
    names a path outside it, or reaches it through a link, or is not a regular file."""
    try:
        os.close(open_file_beneath(artifacts, name, "an artifact event"))
    except (OSError, StoreError):
        return None
    return artifacts / name


def parse_events(text: str) -> tuple[list[dict], int]:
    """Every event in `text` (JSON lines) and how many lines were not one; one C-level parse
    per batch, line by line only if one is bad."""
    lines = [line for line in text.split("\n") if line]
    bad = 0
    try:
        events = json.loads("[" + ",".join(lines) + "]")
    except ValueError:
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                bad += 1
    good = [e for e in events if isinstance(e, dict)]
    return good, bad + len(events) - len(good)


def replay_parent_metrics(conn: sqlite3.Connection, events_path: Path, from_pipeline_run_id: str,
                          to_pipeline_run_id: str) -> int:
    """Log again, to `to_pipeline_run_id`, the metrics a step logged to its own pipeline run
    (`run.parent.log`, in `events_path`): a reused step stands in for that step entirely."""
    try:
        text = events_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return 0
    events, _ = parse_events(text)
    return insert_metrics(conn, [
        (to_pipeline_run_id, e.get("name"), e["kind"], e.get("value"), e.get("t", 0.0))
        for e in events if e.get("run") == from_pipeline_run_id and e.get("kind") in METRIC_KINDS])
