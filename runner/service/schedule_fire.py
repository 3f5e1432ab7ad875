"""Firing a schedule: one run of its published pipeline (or its endpoint's default version),
submitted through the client API as every client does, tagged `amlocal.schedule_id`."""
from __future__ import annotations

import logging
from typing import Any

from runner.client import Client, SubmitOptions
from runner.service_control import SCHEDULE_TAG
from runner.spec import PipelineSpec
from store import catalog
from store.pipeline_endpoints import get_endpoint
from store.records import ScheduleRecord
from store.schedules import record_fire
from store.workspace import OpenWorkspace

log = logging.getLogger("amlocal.service.scheduler")


def _published_id(local: OpenWorkspace, schedule: ScheduleRecord) -> str:
    if schedule.pipeline_id is not None:
        return schedule.pipeline_id
    endpoint = get_endpoint(local.conn, endpoint_id=schedule.pipeline_endpoint_id)
    return dict(endpoint.versions)[endpoint.default_version]


def submit_schedule(local: OpenWorkspace, schedule: ScheduleRecord,
                    assignments: dict[str, Any] | None = None, client: Client | None = None) -> str:
    """Submit one run of `schedule` through the client API; its run id. Raises when its
    pipeline is gone or disabled, or the client refuses the submit.

    `assignments` are parameter values on top of the schedule's own (a datastore schedule's
    changed path). `client` is the service's (whose submits wait in its queue); None: a
    client of `local` that starts the run at once."""
    published = catalog.get_published_pipeline(local.conn, _published_id(local, schedule))
    if published.status != "Active":
        raise ValueError(f"published pipeline {published.id} is {published.status}")
    spec = PipelineSpec.from_json(catalog.get_pipeline(local.conn, published.pipeline_id).spec)
    continue_on_failure = schedule.continue_on_step_failure
    if continue_on_failure is None:
        continue_on_failure = published.continue_on_step_failure
    submitted = (client or Client(local)).submit(spec, SubmitOptions(
        experiment_name=schedule.experiment_name, pipeline_name=published.name,
        parameters={**schedule.parameters, **(assignments or {})},
        tags={SCHEDULE_TAG: schedule.id},
        continue_on_step_failure=bool(continue_on_failure),
        published_pipeline_id=published.id))
    return submitted.run_id


def fire(local: OpenWorkspace, schedule: ScheduleRecord, now: float | None,
         assignments: dict[str, Any] | None = None, client: Client | None = None) -> str | None:
    """Submit one run of `schedule` and record the fire; its run id (None when the submit
    failed, which is logged and never raised: a bad schedule never stops the others).

    `now` is recorded as the fire time; None (a run triggered by hand) records only the run,
    so the recurrence goes on as it was.
    """
    run_id = None
    try:
        run_id = submit_schedule(local, schedule, assignments, client)
        log.info("schedule %s (%s) started run %s", schedule.name, schedule.id, run_id)
    except Exception as exc:  # noqa: BLE001 - a bad schedule never stops the others
        log.error("schedule %s (%s) could not submit: %s", schedule.name, schedule.id, exc)
    record_fire(local.conn, schedule.id, now, run_id)
    return run_id
