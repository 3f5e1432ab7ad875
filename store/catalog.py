"""Named things a workspace holds: experiments, pipelines, datastores, compute targets,
published pipelines and modules."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from typing import Any

from store.database import transaction
from store.errors import NotFoundError
from store.records import (ComputeTargetRecord, DatastoreRecord, ExperimentRecord, ModuleRecord,
                           ModuleVersionRecord, PipelineRecord, PublishedPipelineRecord)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text (and hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def ensure_experiment(conn: sqlite3.Connection, name: str) -> str:
    """The id of experiment `name`, creating it on first use."""
    row = conn.execute("SELECT id FROM experiment WHERE name = ?", (name,)).fetchone()
    if row:
        return row["id"]
    new_id = str(uuid.uuid4())
    conn.execute("INSERT OR IGNORE INTO experiment (id, name, created_at, tags_json) "
                 "VALUES (?, ?, ?, '{}')", (new_id, name, time.time()))
    return conn.execute("SELECT id FROM experiment WHERE name = ?", (name,)).fetchone()["id"]


def list_experiments(conn: sqlite3.Connection) -> list[ExperimentRecord]:
    """Every experiment, newest first (as `Experiment.list` returns them)."""
    return [ExperimentRecord.of(row) for row in
            conn.execute("SELECT * FROM experiment ORDER BY created_at DESC")]


def find_experiment(conn: sqlite3.Connection, name: str) -> ExperimentRecord | None:
    """The experiment called `name`, or None when there is none."""
    row = conn.execute("SELECT * FROM experiment WHERE name = ?", (name,)).fetchone()
    return ExperimentRecord.of(row) if row is not None else None


def ensure_pipeline(conn: sqlite3.Connection, name: str, spec: dict) -> str:
    """The id of the pipeline whose spec (plain JSON data) is `spec`, storing it on first sight."""
    spec_json = canonical_json(spec)
    spec_hash = hashlib.sha256(spec_json.encode()).hexdigest()
    row = conn.execute("SELECT id FROM pipeline WHERE spec_hash = ?", (spec_hash,)).fetchone()
    if row:
        return row["id"]
    conn.execute("INSERT OR IGNORE INTO pipeline (id, name, spec_hash, spec_json, created_at) "
                 "VALUES (?, ?, ?, ?, ?)", (spec_hash[:32], name, spec_hash, spec_json, time.time()))
    return spec_hash[:32]


def get_pipeline(conn: sqlite3.Connection, pipeline_id: str) -> PipelineRecord:
    """The pipeline stored under `pipeline_id`, with its spec as plain JSON data."""
    row = conn.execute("SELECT * FROM pipeline WHERE id = ?", (pipeline_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no pipeline {pipeline_id}")
    return PipelineRecord.of(row)


# ----------------------------------------------------------------- datastores

def register_datastore(conn: sqlite3.Connection, name: str, datastore_type: str,
                       config: dict, overwrite: bool) -> bool:
    """Record datastore `name`; returns False when it existed and `overwrite` is off."""
    with transaction(conn):
        exists = conn.execute("SELECT 1 FROM datastore WHERE name = ?", (name,)).fetchone()
        if exists and not overwrite:
            return False
        conn.execute(
            "INSERT INTO datastore (name, datastore_type, config_json, is_default, created_at) "
            "VALUES (?, ?, ?, 0, ?) ON CONFLICT(name) DO UPDATE SET "
            "datastore_type = excluded.datastore_type, config_json = excluded.config_json",
            (name, datastore_type, canonical_json(config), time.time()))
    return True


def get_datastore(conn: sqlite3.Connection, name: str) -> DatastoreRecord | None:
    """The datastore registered as `name`, or None."""
    row = conn.execute("SELECT * FROM datastore WHERE name = ?", (name,)).fetchone()
    return DatastoreRecord.of(row) if row is not None else None


def list_datastores(conn: sqlite3.Connection) -> list[DatastoreRecord]:
    """Every registered datastore, by name."""
    return [DatastoreRecord.of(row) for row in conn.execute("SELECT * FROM datastore ORDER BY name")]


def default_datastore_name(conn: sqlite3.Connection) -> str:
    """The name of the workspace's default datastore."""
    row = conn.execute("SELECT name FROM datastore WHERE is_default = 1").fetchone()
    return row["name"] if row else "workspaceblobstore"


def set_default_datastore(conn: sqlite3.Connection, name: str) -> None:
    """Make `name` the default datastore."""
    with transaction(conn):
        if not conn.execute("SELECT 1 FROM datastore WHERE name = ?", (name,)).fetchone():
            raise NotFoundError(f"no datastore named {name!r}")
        conn.execute("UPDATE datastore SET is_default = (name = ?)", (name,))


def unregister_datastore(conn: sqlite3.Connection, name: str) -> None:
    """Forget datastore `name` (its folder stays)."""
    with transaction(conn):
        conn.execute("DELETE FROM datastore WHERE name = ?", (name,))


# ----------------------------------------------------------------- compute targets

def save_compute_target(conn: sqlite3.Connection, name: str, compute_type: str,
                        vm_size: str | None, max_nodes: int | None, config: dict) -> None:
    """Create or replace compute target `name`."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO compute_target (name, compute_type, vm_size, max_nodes, config_json, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "compute_type = excluded.compute_type, vm_size = excluded.vm_size, "
            "max_nodes = excluded.max_nodes, config_json = excluded.config_json",
            (name, compute_type, vm_size, max_nodes, canonical_json(config), time.time()))


def get_compute_target(conn: sqlite3.Connection, name: str) -> ComputeTargetRecord | None:
    """The compute target registered as `name`, or None."""
    row = conn.execute("SELECT * FROM compute_target WHERE name = ?", (name,)).fetchone()
    return ComputeTargetRecord.of(row) if row is not None else None


def list_compute_targets(conn: sqlite3.Connection) -> list[ComputeTargetRecord]:
    """Every registered compute target, by name."""
    return [ComputeTargetRecord.of(row) for row in
            conn.execute("SELECT * FROM compute_target ORDER BY name")]


def delete_compute_target(conn: sqlite3.Connection, name: str) -> None:
    """Forget compute target `name`."""
    with transaction(conn):
        conn.execute("DELETE FROM compute_target WHERE name = ?", (name,))


# ----------------------------------------------------------------- published pipelines

def publish_pipeline(conn: sqlite3.Connection, pipeline_id: str, name: str,
                     description: str | None, version: str | None,
                     continue_on_step_failure: bool | None) -> str:
    """Record a published pipeline and return its id."""
    pub_id = str(uuid.uuid4())
    with transaction(conn):
        conn.execute(
            "INSERT INTO published_pipeline (id, name, description, version, pipeline_id, status, "
            "continue_on_step_failure, created_at) VALUES (?, ?, ?, ?, ?, 'Active', ?, ?)",
            (pub_id, name, description, version, pipeline_id, continue_on_step_failure, time.time()))
    return pub_id


def get_published_pipeline(conn: sqlite3.Connection, pub_id: str) -> PublishedPipelineRecord:
    """The published pipeline `pub_id`."""
    row = conn.execute("SELECT * FROM published_pipeline WHERE id = ?", (pub_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no published pipeline with id {pub_id}")
    return PublishedPipelineRecord.of(row)


def list_published_pipelines(conn: sqlite3.Connection, active_only: bool) -> list[PublishedPipelineRecord]:
    """Published pipelines, newest first (only the active ones with `active_only`)."""
    sql = "SELECT * FROM published_pipeline"
    if active_only:
        sql += " WHERE status = 'Active'"
    return [PublishedPipelineRecord.of(row) for row in conn.execute(sql + " ORDER BY created_at DESC")]


def set_published_status(conn: sqlite3.Connection, pub_id: str, status: str) -> None:
    """Enable ("Active") or disable ("Disabled") a published pipeline."""
    with transaction(conn):
        conn.execute("UPDATE published_pipeline SET status = ? WHERE id = ?", (status, pub_id))


# ----------------------------------------------------------------- modules

def create_module(conn: sqlite3.Connection, name: str, description: str | None) -> str:
    """Create module `name` and return its id (an existing name returns the existing id)."""
    with transaction(conn):
        row = conn.execute("SELECT id FROM module WHERE name = ?", (name,)).fetchone()
        if row:
            return row["id"]
        module_id = str(uuid.uuid4())
        conn.execute("INSERT INTO module (id, name, description, status, created_at) "
                     "VALUES (?, ?, ?, 'Active', ?)", (module_id, name, description, time.time()))
        return module_id


def get_module(conn: sqlite3.Connection, module_id: str | None, name: str | None) -> ModuleRecord:
    """The module with this id (or else this name), with its versions."""
    if module_id:
        row = conn.execute("SELECT * FROM module WHERE id = ?", (module_id,)).fetchone()
    else:
        row = conn.execute("SELECT * FROM module WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFoundError(f"no module {module_id or name!r}")
    versions = tuple(ModuleVersionRecord.of(v) for v in conn.execute(
        "SELECT * FROM module_version WHERE module_id = ? ORDER BY created_at", (row["id"],)))
    return ModuleRecord(row["id"], row["name"], row["description"], row["status"],
                        row["default_version"], row["created_at"], versions)


def add_module_version(conn: sqlite3.Connection, module_id: str, version: str,
                       definition: dict, is_default: bool) -> str:
    """Store one version of a module; the first version, or `is_default`, becomes default."""
    version_id = str(uuid.uuid4())
    with transaction(conn):
        conn.execute("INSERT INTO module_version (id, module_id, version, definition_json, "
                     "status, created_at) VALUES (?, ?, ?, ?, 'Active', ?)",
                     (version_id, module_id, version, canonical_json(definition), time.time()))
        conn.execute("UPDATE module SET default_version = ? WHERE id = ? AND "
                     "(default_version IS NULL OR ?)", (version, module_id, is_default))
    return version_id

