"""Published pipelines, pipeline endpoints and schedules as the dashboard shows them, read
from the store in a worker thread (see `queries.Store`); and the two schedule actions the
screen offers (enable/disable, trigger now), which go through runner code as the SDK and the
service do."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from runner.schedule_time import schedule_next_fire
from runner.service_control import ensure_service
from store.catalog import list_published_pipelines
from store.errors import NotFoundError
from store.layout import WorkspaceLayout
from store.pipeline_endpoints import list_endpoints
from store.records import ScheduleRecord
from store.runs import get_pipeline_run
from store.schedules import get_schedule, list_schedules, record_fire, update_schedule
from store.workspace import open_workspace
from tui.dashboard.queries import Store
from tui.formatting import short_value, when
from tui.service_commands import schedule_trigger_text


@dataclass(frozen=True)
class PublishedRow:
    """One published pipeline and the endpoints that serve it."""

    id: str
    name: str
    version: str
    status: str
    published: str
    endpoints: str


@dataclass(frozen=True)
class EndpointRow:
    """One pipeline endpoint: its versions (version=published id) and the default one."""

    id: str
    name: str
    status: str
    default: str
    versions: str


@dataclass(frozen=True)
class ScheduleRow:
    """One schedule: when it fires, when next, its last run; `detail` says all of it in a line."""

    id: str
    name: str
    status: str
    trigger: str
    next_fire: str
    last_run: str
    detail: str


@dataclass(frozen=True)
class PublishedData:
    """Everything the published screen shows, read in one go."""

    published: tuple[PublishedRow, ...]
    endpoints: tuple[EndpointRow, ...]
    schedules: tuple[ScheduleRow, ...]


def _last_run(conn: sqlite3.Connection, run_id: str | None) -> str:
    if run_id is None:
        return "-"
    try:
        return f"{run_id[:8]} {get_pipeline_run(conn, run_id).status}"
    except NotFoundError:
        return f"{run_id[:8]} (gone)"


def _next_fire(schedule: ScheduleRecord) -> str:
    if schedule.status != "Active":
        return "-"
    if schedule.recurrence is None:
        return "on change"
    return schedule_next_fire(schedule.recurrence, schedule.last_fired_at,
                              schedule.created_at).strftime("%Y-%m-%d %H:%M UTC")


def _when_text(schedule: ScheduleRecord) -> str:
    r = schedule.recurrence
    if r is None:
        return schedule_trigger_text(dict(schedule.datastore_trigger or {}))
    return f"every {r['interval']} {r['frequency']}"


def published_data(store: Store) -> PublishedData:
    """Published pipelines (newest first), endpoints (newest first), schedules (oldest first)."""
    with store.query() as conn:
        published = list_published_pipelines(conn, active_only=False)
        endpoints = list_endpoints(conn, active_only=False)
        schedules = list_schedules(conn)
        names = {p.id: p.name for p in published}
        serving: dict[str, list[str]] = {}
        for e in endpoints:
            for _, pid in e.versions:
                serving.setdefault(pid, []).append(e.name)
        endpoint_names = {e.id: e.name for e in endpoints}
        schedule_rows = []
        for s in schedules:
            target = (f"pipeline {names.get(s.pipeline_id, s.pipeline_id)}" if s.pipeline_id
                      else f"endpoint {endpoint_names.get(s.pipeline_endpoint_id, s.pipeline_endpoint_id)}")
            params = ", ".join(f"{k}={v}" for k, v in s.parameters.items()) or "defaults"
            detail = (f"{s.name}: {target} → experiment {s.experiment_name} · {_when_text(s)} · "
                      f"parameters {params} · last fired {when(s.last_fired_at)}")
            schedule_rows.append(ScheduleRow(s.id, s.name, s.status, _when_text(s), _next_fire(s),
                                             _last_run(conn, s.last_run_id), detail))
        return PublishedData(
            tuple(PublishedRow(p.id, p.name, p.version or "-", p.status, when(p.created_at),
                               short_value(", ".join(sorted(set(serving.get(p.id, [])))) or "-", 30))
                  for p in published),
            tuple(EndpointRow(e.id, e.name, e.status, e.default_version,
                              short_value(" ".join(f"{v}={names.get(pid, pid[:8])}"
                                                   for v, pid in e.versions), 40))
                  for e in endpoints),
            tuple(schedule_rows))


def toggle_schedule(layout: WorkspaceLayout, schedule_id: str) -> str:
    """Disable an active schedule, enable a disabled one (starting the service, as enable()
    does; a datastore schedule fires on changes from now on); what was done, in words."""
    from runner.sdk.schedule_options import files_now
    with open_workspace(layout) as local:
        record = get_schedule(local.conn, schedule_id)
        if record.status == "Active":
            update_schedule(local.conn, schedule_id, status="Disabled")
            return f"disabled schedule {record.name}"
        fields = {"status": "Active"}
        if record.datastore_trigger is not None:
            fields["watched_files"] = files_now(layout, record.datastore_trigger)
        update_schedule(local.conn, schedule_id, **fields)
    ensure_service(layout, quiet=True)
    return f"enabled schedule {record.name}"


def trigger_schedule(layout: WorkspaceLayout, schedule_id: str) -> str:
    """Run the schedule's pipeline now, as the service does when it fires (its recurrence
    goes on as it was); what was done, in words."""
    from runner.service.schedule_fire import submit_schedule
    with open_workspace(layout) as local:
        record = get_schedule(local.conn, schedule_id)
        run_id = submit_schedule(local, record)
        record_fire(local.conn, schedule_id, None, run_id)
    return f"schedule {record.name} started run {run_id[:8]}"
