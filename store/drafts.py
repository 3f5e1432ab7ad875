"""Pipeline drafts: a pipeline saved with its experiment, parameters and tags, to be edited,
submitted or published later (`azureml.pipeline.core.PipelineDraft`)."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from store.database import transaction
from store.errors import NotFoundError


@dataclass
class DraftRecord:
    """One stored pipeline draft; `pipeline_id` names its spec in the `pipeline` table."""

    id: str
    name: str
    description: str | None
    experiment_name: str
    pipeline_id: str
    parameters: dict[str, Any] = field(default_factory=dict)
    continue_on_step_failure: bool | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    parent_pipeline_id: str | None = None
    parent_pipeline_run_id: str | None = None
    parent_step_run_ids: list[str] = field(default_factory=list)
    parent_pipeline_draft_id: str | None = None
    last_submitted_pipeline_run_id: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


def _record(row: sqlite3.Row) -> DraftRecord:
    return DraftRecord(
        id=row["id"], name=row["name"], description=row["description"],
        experiment_name=row["experiment_name"], pipeline_id=row["pipeline_id"],
        parameters=json.loads(row["parameters_json"]),
        continue_on_step_failure=None if row["continue_on_step_failure"] is None
        else bool(row["continue_on_step_failure"]),
        tags=json.loads(row["tags_json"]), properties=json.loads(row["properties_json"]),
        parent_pipeline_id=row["parent_pipeline_id"], parent_pipeline_run_id=row["parent_pipeline_run_id"],
        parent_step_run_ids=json.loads(row["parent_step_run_ids_json"]),
        parent_pipeline_draft_id=row["parent_pipeline_draft_id"],
        last_submitted_pipeline_run_id=row["last_submitted_pipeline_run_id"],
        created_at=row["created_at"], updated_at=row["updated_at"])


def create_draft(conn: sqlite3.Connection, draft: DraftRecord) -> DraftRecord:
    """Store `draft` under a new id; returns it as stored."""
    now = time.time()
    draft_id = str(uuid.uuid4())
    with transaction(conn):
        conn.execute(
            "INSERT INTO pipeline_draft (id, name, description, experiment_name, pipeline_id, "
            "parameters_json, continue_on_step_failure, tags_json, properties_json, "
            "parent_pipeline_id, parent_pipeline_run_id, parent_step_run_ids_json, "
            "parent_pipeline_draft_id, last_submitted_pipeline_run_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
            (draft_id, draft.name, draft.description, draft.experiment_name, draft.pipeline_id,
             json.dumps(draft.parameters), draft.continue_on_step_failure, json.dumps(draft.tags),
             json.dumps(draft.properties), draft.parent_pipeline_id, draft.parent_pipeline_run_id,
             json.dumps(draft.parent_step_run_ids), draft.parent_pipeline_draft_id, now, now))
    return get_draft(conn, draft_id)


def get_draft(conn: sqlite3.Connection, draft_id: str) -> DraftRecord:
    """The draft `draft_id`; NotFoundError when there is none."""
    row = conn.execute("SELECT * FROM pipeline_draft WHERE id = ?", (draft_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no pipeline draft {draft_id}")
    return _record(row)


def list_drafts(conn: sqlite3.Connection) -> list[DraftRecord]:
    """Every draft, newest first."""
    return [_record(r) for r in conn.execute("SELECT * FROM pipeline_draft ORDER BY created_at DESC")]


_EDITABLE = {"name": "name", "description": "description", "experiment_name": "experiment_name",
             "pipeline_id": "pipeline_id", "parameters": "parameters_json",
             "continue_on_step_failure": "continue_on_step_failure", "tags": "tags_json",
             "last_submitted_pipeline_run_id": "last_submitted_pipeline_run_id"}


def update_draft(conn: sqlite3.Connection, draft_id: str, **changes: Any) -> DraftRecord:
    """Change the given fields (see `_EDITABLE`) of draft `draft_id`; returns it as stored."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"cannot update draft field(s) {', '.join(sorted(unknown))}")
    columns = [f"{_EDITABLE[k]} = ?" for k in changes] + ["updated_at = ?"]
    values = [json.dumps(v) if _EDITABLE[k].endswith("_json") else v for k, v in changes.items()]
    with transaction(conn):
        done = conn.execute(f"UPDATE pipeline_draft SET {', '.join(columns)} WHERE id = ?",
                            (*values, time.time(), draft_id))
        if done.rowcount == 0:
            raise NotFoundError(f"no pipeline draft {draft_id}")
    return get_draft(conn, draft_id)


def delete_draft(conn: sqlite3.Connection, draft_id: str) -> None:
    """Remove draft `draft_id` (its pipeline spec stays: runs may use it)."""
    with transaction(conn):
        conn.execute("DELETE FROM pipeline_draft WHERE id = ?", (draft_id,))
