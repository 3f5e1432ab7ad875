"""Schedules (`Schedule`), on a recurrence or on datastore changes: stored here, fired by the
workspace service."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from typing import Any, Mapping

from store.database import transaction
from store.errors import NotFoundError
from store.records import ScheduleRecord


def create_schedule(conn: sqlite3.Connection, name: str, description: str | None,
                    pipeline_id: str | None, pipeline_endpoint_id: str | None,
                    experiment_name: str, parameters: Mapping[str, Any],
                    recurrence: Mapping[str, Any] | None, continue_on_step_failure: bool | None,
                    datastore_trigger: Mapping[str, Any] | None = None,
                    watched_files: Mapping[str, Any] | None = None) -> str:
    """Record a new active schedule (a recurrence one, or a datastore one with its trigger and
    the files present now); returns its id."""
    schedule_id = str(uuid.uuid4())
    with transaction(conn):
        conn.execute("INSERT INTO schedule (id, name, description, pipeline_id, "
                     "pipeline_endpoint_id, experiment_name, parameters_json, recurrence_json, "
                     "continue_on_step_failure, status, created_at, datastore_trigger_json, "
                     "watched_files_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Active', ?, ?, ?)",
                     (schedule_id, name, description, pipeline_id, pipeline_endpoint_id,
                      experiment_name, json.dumps(dict(parameters)),
                      json.dumps(None if recurrence is None else dict(recurrence)),
                      continue_on_step_failure, time.time(),
                      None if datastore_trigger is None else json.dumps(dict(datastore_trigger)),
                      None if watched_files is None else json.dumps(dict(watched_files))))
    return schedule_id


_UPDATABLE = {"name": "name", "description": "description", "status": "status",
              "parameters": "parameters_json", "recurrence": "recurrence_json",
              "continue_on_step_failure": "continue_on_step_failure",
              "datastore_trigger": "datastore_trigger_json", "watched_files": "watched_files_json"}
_JSON_FIELDS = {"parameters", "recurrence", "datastore_trigger", "watched_files"}


def update_schedule(conn: sqlite3.Connection, schedule_id: str, **fields: Any) -> ScheduleRecord:
    """Change the given fields of a schedule (names as in ScheduleRecord); the record after."""
    unknown = set(fields) - set(_UPDATABLE)
    if unknown:
        raise ValueError(f"schedule fields cannot be updated: {', '.join(sorted(unknown))}")
    get_schedule(conn, schedule_id)
    if fields:
        columns = ", ".join(f"{_UPDATABLE[name]} = ?" for name in fields)
        values = [json.dumps(value if not isinstance(value, Mapping) else dict(value))
                  if name in _JSON_FIELDS else value for name, value in fields.items()]
        with transaction(conn):
            conn.execute(f"UPDATE schedule SET {columns} WHERE id = ?", (*values, schedule_id))
    return get_schedule(conn, schedule_id)


def get_schedule(conn: sqlite3.Connection, schedule_id: str) -> ScheduleRecord:
    """The schedule `schedule_id`."""
    row = conn.execute("SELECT * FROM schedule WHERE id = ?", (schedule_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no schedule with id {schedule_id}")
    return ScheduleRecord.of(row)


def set_watched_files(conn: sqlite3.Connection, schedule_id: str,
                      watched_files: Mapping[str, Any],
                      trigger: Mapping[str, Any] | None = None) -> bool:
    """Remember the files a datastore schedule saw last (name → [size, mtime_ns, sha256]);
    given `trigger`, only while the schedule's datastore trigger is still that one (the files
    were read from its folder: an update meanwhile moved it elsewhere). Whether it did."""
    with transaction(conn):
        if trigger is not None:
            row = conn.execute("SELECT datastore_trigger_json FROM schedule WHERE id = ?",
                               (schedule_id,)).fetchone()
            if row is None or json.loads(row[0] or "null") != dict(trigger):
                return False
        conn.execute("UPDATE schedule SET watched_files_json = ? WHERE id = ?",
                     (json.dumps(dict(watched_files)), schedule_id))
    return True


def list_schedules(conn: sqlite3.Connection, active_only: bool = False) -> list[ScheduleRecord]:
    """Schedules, oldest first (only active ones with `active_only`)."""
    sql = "SELECT * FROM schedule" + (" WHERE status = 'Active'" if active_only else "")
    return [ScheduleRecord.of(row) for row in conn.execute(sql + " ORDER BY created_at").fetchall()]


def set_schedule_status(conn: sqlite3.Connection, schedule_id: str, status: str) -> None:
    """Enable ("Active") or disable ("Disabled") a schedule."""
    with transaction(conn):
        conn.execute("UPDATE schedule SET status = ? WHERE id = ?", (status, schedule_id))


def record_fire(conn: sqlite3.Connection, schedule_id: str, fired_at: float | None,
                run_id: str | None) -> None:
    """Remember that the schedule fired at `fired_at` (None: keep the last fire time, for a run
    triggered by hand) and the run it started, if any."""
    with transaction(conn):
        conn.execute("UPDATE schedule SET last_fired_at = COALESCE(?, last_fired_at), "
                     "last_run_id = COALESCE(?, last_run_id) WHERE id = ?",
                     (fired_at, run_id, schedule_id))
