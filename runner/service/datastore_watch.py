"""Datastore schedules in the service: one watcher (watchfiles) per active schedule, on the
files directly under its `path_on_datastore` (sub-folders are not watched, as in Azure).

A burst of changes (files written less than QUIET_MS apart, for at most MAX_BURST_S) is
one run. What fires is decided by content, against the files the schedule saw last (kept in
the store): added or modified files fire, deleted ones and unchanged re-writes do not. The
changed file's path (the first by name when several changed) is assigned as a DataPath to
`data_path_parameter_name`. A watcher starting (the service starting, a schedule enabled)
first compares the folder with what was seen, so changes made while the service was down
fire once.
"""
from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import time
from typing import Any, Mapping

import watchfiles

from runner.client import Client
from runner.service.schedule_fire import fire
from store.datastore_changes import changed_files, folder_files, watched_folder
from store.datastore_paths import normalize_datastore_path
from store.errors import NotFoundError
from store.records import ScheduleRecord
from store.schedules import get_schedule, set_watched_files
from store.workspace import OpenWorkspace

QUIET_MS = 1000       # a burst ends after this long without a change
MAX_BURST_S = 10.0    # and never lasts longer than this
RETRY_S = 5.0         # a watcher that failed (its folder removed, …) starts again after this
log = logging.getLogger("amlocal.service.datastore")


def changed_path(trigger: Mapping[str, Any], name: str) -> dict[str, str]:
    """The DataPath value (datastore, path) of the changed file `name` of a trigger's folder."""
    folder = normalize_datastore_path(trigger.get("path_on_datastore"))
    return {"datastore": str(trigger["datastore"]),
            "path": posixpath.join(folder, name) if folder else name}


def settle(local: OpenWorkspace, record: ScheduleRecord, current: dict[str, list],
           now: float | None = None, client: Client | None = None) -> str | None:
    """Record `current` (the files of `record`'s folder) as seen; fire `record` once when files
    were added or modified since what it saw last. The run id (None: nothing changed, the
    schedule was moved to another folder meanwhile, or the submit failed)."""
    changed = changed_files(record.watched_files, current)
    if not set_watched_files(local.conn, record.id, current, record.datastore_trigger or {}):
        return None  # moved meanwhile: the watcher of its new folder looks there
    if not changed:
        return None
    trigger = dict(record.datastore_trigger or {})
    assignments = {}
    parameter = trigger.get("data_path_parameter_name")
    if parameter:
        assignments[parameter] = changed_path(trigger, changed[0])
    log.info("schedule %s (%s): %d file(s) changed in %s (%s)", record.name, record.id,
             len(changed), trigger.get("path_on_datastore") or "/", ", ".join(changed[:5]))
    return fire(local, record, time.time() if now is None else now, assignments, client)


async def check(local: OpenWorkspace, schedule_id: str,
                client: Client | None = None) -> str | None:
    """Look at the schedule's folder now (reading files in a thread) and settle it."""
    record = get_schedule(local.conn, schedule_id)
    if record.status != "Active" or record.datastore_trigger is None:
        return None
    folder = watched_folder(local.layout, record.datastore_trigger)
    current = await asyncio.to_thread(folder_files, folder, dict(record.watched_files))
    record = get_schedule(local.conn, schedule_id)  # what was seen may have been reset meanwhile
    if record.status != "Active" or record.datastore_trigger is None \
            or watched_folder(local.layout, record.datastore_trigger) != folder:
        return None  # disabled, or moved to another folder meanwhile: its new watcher looks
    return settle(local, record, current, client=client)


async def watch_schedule(local: OpenWorkspace, schedule_id: str,
                         client: Client | None = None) -> None:
    """Watch one datastore schedule's folder until cancelled (or the schedule is gone)."""
    while True:
        try:
            record = get_schedule(local.conn, schedule_id)
            folder = watched_folder(local.layout, record.datastore_trigger or {})
            began: float | None = None
            announced = False
            async for changes in watchfiles.awatch(folder, watch_filter=None, recursive=False,
                                                   debounce=QUIET_MS, step=50,
                                                   rust_timeout=QUIET_MS, yield_on_timeout=True):
                if not announced:  # the first batch (or timeout): the watch is in place, so
                    announced = True  # what changed while nobody watched is looked at now
                    log.info("schedule %s (%s) watches %s", record.name, record.id, folder)
                    await check(local, schedule_id, client)
                    continue
                if changes and began is None:
                    began = time.monotonic()
                if began is None or (changes and time.monotonic() - began < MAX_BURST_S):
                    continue  # nothing yet, or the burst goes on
                began = None
                await check(local, schedule_id, client)
        except asyncio.CancelledError:
            raise
        except NotFoundError:
            return
        except Exception:  # noqa: BLE001 - a failing watcher never takes the service down
            log.exception("watching the datastore of schedule %s failed; again in %.0f s",
                          schedule_id, RETRY_S)
        await asyncio.sleep(RETRY_S)


def _watch_key(record: ScheduleRecord) -> str:
    trigger = record.datastore_trigger or {}
    return json.dumps([trigger.get("datastore"), trigger.get("path_on_datastore")])


class DatastoreWatches:
    """The watchers of the active datastore schedules, kept in step with the store."""

    def __init__(self, local: OpenWorkspace, client: Client | None = None) -> None:
        self.local = local
        self.client = client  # what fires submit with (the service's, with its queue)
        self.tasks: dict[str, tuple[str, asyncio.Task]] = {}

    def sync(self, active: list[ScheduleRecord]) -> None:
        """Start a watcher for each active datastore schedule without one; stop those of
        schedules disabled, removed or now watching another folder."""
        wanted = {r.id: _watch_key(r) for r in active if r.datastore_trigger is not None}
        for schedule_id, (key, task) in list(self.tasks.items()):
            if wanted.get(schedule_id) != key or task.done():
                task.cancel()
                del self.tasks[schedule_id]
        for schedule_id, key in wanted.items():
            if schedule_id not in self.tasks:
                task = asyncio.create_task(watch_schedule(self.local, schedule_id, self.client))
                self.tasks[schedule_id] = (key, task)

    def stop(self) -> None:
        """Stop every watcher."""
        for _, task in self.tasks.values():
            task.cancel()
        self.tasks.clear()
