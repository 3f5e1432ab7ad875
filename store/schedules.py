"""Recurrence schedules (`Schedule`): stored here, fired by the workspace service."""
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
                    recurrence: Mapping[str, Any], continue_on_step_failure: bool | None) -> str:
    """Record a new active schedule; returns its id."""
    schedule_id = str(uuid.uuid4())
    with transaction(conn):
        conn.execute("INSERT INTO schedule (id, name, description, pipeline_id, "
                     "pipeline_endpoint_id, experiment_name, parameters_json, recurrence_json, "
                     "continue_on_step_failure, status, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Active', ?)",
                     (schedule_id, name, description, pipeline_id, pipeline_endpoint_id,
                      experiment_name, json.dumps(dict(parameters)), json.dumps(dict(recurrence)),
                      continue_on_step_failure, time.time()))
    return schedule_id


def get_schedule(conn: sqlite3.Connection, schedule_id: str) -> ScheduleRecord:
    """The schedule `schedule_id`."""
    row = conn.execute("SELECT * FROM schedule WHERE id = ?", (schedule_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no schedule with id {schedule_id}")
    return ScheduleRecord.of(row)


def list_schedules(conn: sqlite3.Connection, active_only: bool = False) -> list[ScheduleRecord]:
    """Schedules, oldest first (only active ones with `active_only`)."""
    sql = "SELECT * FROM schedule" + (" WHERE status = 'Active'" if active_only else "")
    return [ScheduleRecord.of(row) for row in conn.execute(sql + " ORDER BY created_at").fetchall()]


def set_schedule_status(conn: sqlite3.Connection, schedule_id: str, status: str) -> None:
    """Enable ("Active") or disable ("Disabled") a schedule."""
    with transaction(conn):
        conn.execute("UPDATE schedule SET status = ? WHERE id = ?", (status, schedule_id))


def record_fire(conn: sqlite3.Connection, schedule_id: str, fired_at: float,
                run_id: str | None) -> None:
    """Remember that the schedule fired at `fired_at` (and the run it started, if any)."""
    with transaction(conn):
        conn.execute("UPDATE schedule SET last_fired_at = ?, last_run_id = COALESCE(?, last_run_id) "
                     "WHERE id = ?", (fired_at, run_id, schedule_id))
