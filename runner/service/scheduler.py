"""The service's schedule loop: fire every active recurrence schedule whose next fire time
has come, and keep one watcher per active datastore schedule (runner/service/datastore_watch).

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

from runner.client import Client
from runner.schedule_time import schedule_next_fire
from runner.service.datastore_watch import DatastoreWatches
from runner.service.schedule_fire import fire
from store.schedules import list_schedules
from store.workspace import OpenWorkspace

__all__ = ["fire", "fire_due", "run_schedules"]

TICK_SECONDS = 1.0
log = logging.getLogger("amlocal.service.scheduler")


def fire_due(local: OpenWorkspace, now: float | None = None,
             client: Client | None = None) -> list[str]:
    """Fire every active schedule that is due at `now` (submitting with `client`); the run ids
    started."""
    now = time.time() if now is None else now
    started = []
    for schedule in list_schedules(local.conn, active_only=True):
        if schedule.recurrence is None:
            continue  # a datastore schedule: its watcher fires it
        due = schedule_next_fire(schedule.recurrence, schedule.last_fired_at, schedule.created_at)
        if due.timestamp() <= now:
            run_id = fire(local, schedule, now, client=client)
            if run_id is not None:
                started.append(run_id)
    return started


async def run_schedules(local: OpenWorkspace, tick: float = TICK_SECONDS,
                        client: Client | None = None) -> None:
    """Check the schedules every `tick` seconds until cancelled; stop the service (SIGTERM to
    itself) when its workspace folder has been removed, so none outlives its workspace."""
    watches = DatastoreWatches(local, client)
    try:
        while True:
            if not local.layout.db_path.exists():
                log.warning("the workspace %s is gone: stopping", local.layout.root)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            try:
                watches.sync(list_schedules(local.conn, active_only=True))
                fire_due(local, client=client)
            except Exception:  # noqa: BLE001 - the loop outlives a damaged row or a busy database
                log.exception("checking the schedules failed")
            await asyncio.sleep(tick)
    finally:
        watches.stop()
