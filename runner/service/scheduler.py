"""The service's schedule loop: fire every active schedule whose next fire time has come.

A schedule fires once per due check, whatever it missed while the service was down (the
next fire is computed after the moment it fired). Its run is submitted through the client
API, tagged `amlocal.schedule_id`; a failing submit is logged and never stops the loop.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import time

from runner.client import Client, SubmitOptions
from runner.schedule_time import schedule_next_fire
from runner.service_control import SCHEDULE_TAG
from runner.spec import PipelineSpec
from store import catalog
from store.pipeline_endpoints import get_endpoint
from store.records import ScheduleRecord
from store.schedules import list_schedules, record_fire
from store.workspace import OpenWorkspace

TICK_SECONDS = 1.0
log = logging.getLogger("amlocal.service.scheduler")


def _published_id(local: OpenWorkspace, schedule: ScheduleRecord) -> str:
    if schedule.pipeline_id is not None:
        return schedule.pipeline_id
    endpoint = get_endpoint(local.conn, endpoint_id=schedule.pipeline_endpoint_id)
    return dict(endpoint.versions)[endpoint.default_version]


def fire(local: OpenWorkspace, schedule: ScheduleRecord, now: float) -> str | None:
    """Submit one run of `schedule` now; its run id (None when the submit failed, logged)."""
    run_id = None
    try:
        published = catalog.get_published_pipeline(local.conn, _published_id(local, schedule))
        if published.status != "Active":
            raise ValueError(f"published pipeline {published.id} is {published.status}")
        spec = PipelineSpec.from_json(catalog.get_pipeline(local.conn, published.pipeline_id).spec)
        continue_on_failure = schedule.continue_on_step_failure
        if continue_on_failure is None:
            continue_on_failure = published.continue_on_step_failure
        submitted = Client(local).submit(spec, SubmitOptions(
            experiment_name=schedule.experiment_name, pipeline_name=published.name,
            parameters=dict(schedule.parameters), tags={SCHEDULE_TAG: schedule.id},
            continue_on_step_failure=bool(continue_on_failure),
            published_pipeline_id=published.id))
        run_id = submitted.run_id
        log.info("schedule %s (%s) started run %s", schedule.name, schedule.id, run_id)
    except Exception as exc:  # noqa: BLE001 - a bad schedule never stops the others
        log.error("schedule %s (%s) could not submit: %s", schedule.name, schedule.id, exc)
    record_fire(local.conn, schedule.id, now, run_id)
    return run_id


def fire_due(local: OpenWorkspace, now: float | None = None) -> list[str]:
    """Fire every active schedule that is due at `now`; the run ids started."""
    now = time.time() if now is None else now
    started = []
    for schedule in list_schedules(local.conn, active_only=True):
        due = schedule_next_fire(schedule.recurrence, schedule.last_fired_at, schedule.created_at)
        if due.timestamp() <= now:
            run_id = fire(local, schedule, now)
            if run_id is not None:
                started.append(run_id)
    return started


async def run_schedules(local: OpenWorkspace, tick: float = TICK_SECONDS) -> None:
    """Check the schedules every `tick` seconds until cancelled; stop the service (SIGTERM to
    itself) when its workspace folder has been removed, so none outlives its workspace."""
    while True:
        if not local.layout.db_path.exists():
            log.warning("the workspace %s is gone: stopping", local.layout.root)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        try:
            fire_due(local)
        except Exception:  # noqa: BLE001 - the loop outlives a damaged row or a busy database
            log.exception("checking the schedules failed")
        await asyncio.sleep(tick)
