"""The registries' store: numbered versions per kind and name, lookups that say what exists,
use records for lineage, and the migration that adds the tables to an older workspace."""
from __future__ import annotations

import sqlite3

import pytest

from store import database
from store.errors import NotFoundError
from store.registry import (add_version, find_version, get_by_id, get_version, list_versions,
                            made_by_pipeline_run, record_use, update_asset, used_by_step_run,
                            uses_of)


@pytest.fixture
def conn(tmp_path):
    return database.connect(tmp_path / "a.db")


def test_versions_count_from_one_per_kind_and_name(conn):
    first = add_version(conn, "dataset", "raw", {"kind": "file"}, tags={"a": "1"})
    second = add_version(conn, "dataset", "raw", {"kind": "tabular"}, description="d")
    model = add_version(conn, "model", "raw", {"files": []})
    assert (first.version, second.version, model.version) == (1, 2, 1)
    assert type(first.version) is int
    assert get_version(conn, "dataset", "raw").id == second.id
    assert get_version(conn, "dataset", "raw", 1).definition == {"kind": "file"}
    assert dict(get_by_id(conn, first.id).tags) == {"a": "1"}
    assert [r.version for r in list_versions(conn, "dataset", "raw")] == [2, 1]
    assert [(r.name, r.version) for r in list_versions(conn, "dataset", latest_only=True)] == [("raw", 2)]


def test_unknown_names_and_versions_say_what_exists(conn):
    add_version(conn, "model", "clf", {})
    with pytest.raises(NotFoundError, match=r"^no dataset named 'raw' is registered in this workspace$"):
        get_version(conn, "dataset", "raw")
    with pytest.raises(NotFoundError, match=r"^model 'clf' has no version 7 \(versions: 1\)$"):
        get_version(conn, "model", "clf", 7)
    assert find_version(conn, "model", "clf", 7) is None


def test_updates_and_lineage(conn):
    made = add_version(conn, "model", "clf", {}, made_by_step_run_id="s1", made_by_pipeline_run_id="r1")
    data = add_version(conn, "dataset", "raw", {})
    record_use(conn, data.id, "s0", "r1")
    record_use(conn, data.id, "s0", "r1")  # once per pair
    assert [(u.step_run_id, u.pipeline_run_id) for u in uses_of(conn, data.id)] == [("s0", "r1")]
    assert [a.name for a in used_by_step_run(conn, "s0")] == ["raw"]
    assert [a.id for a in made_by_pipeline_run(conn, "r1")] == [made.id]
    changed = update_asset(conn, made.id, tags={"accuracy": "0.9"})
    assert (dict(changed.tags), changed.description) == ({"accuracy": "0.9"}, None)


def test_a_version_7_database_gets_the_registry_tables(tmp_path):
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE asset_use")
    raw.execute("DROP TABLE registered_asset")
    raw.execute("ALTER TABLE pipeline_run DROP COLUMN forced_json")  # added in schema 9
    raw.execute("ALTER TABLE schedule DROP COLUMN datastore_trigger_json")  # added in schema 9
    raw.execute("ALTER TABLE schedule DROP COLUMN watched_files_json")
    raw.execute("PRAGMA user_version=7")
    raw.commit()
    raw.close()
    conn = database.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION
    assert add_version(conn, "environment", "env", {}).version == 1


def test_a_version_8_database_gets_the_forced_steps_of_its_runs(tmp_path):
    """Runs recorded before `amlocal rerun --step` read as forcing nothing."""
    from store.runs import get_pipeline_run
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE pipeline_run DROP COLUMN forced_json")
    raw.execute("ALTER TABLE schedule DROP COLUMN datastore_trigger_json")
    raw.execute("ALTER TABLE schedule DROP COLUMN watched_files_json")
    raw.execute("INSERT INTO experiment (id, name, created_at, tags_json) VALUES ('e', 'x', 0, '{}')")
    raw.execute("INSERT INTO pipeline (id, name, spec_hash, spec_json, created_at) VALUES ('p', 'p', 'h', '{}', 0)")
    raw.execute("INSERT INTO pipeline_run (id, experiment_id, pipeline_id, status, created_at, "
                "parameters_json, tags_json, properties_json, continue_on_step_failure, "
                "regenerate_outputs, cancel_requested, run_dir) VALUES ('r', 'e', 'p', 'Finished', "
                "0, '{}', '{}', '{}', 0, 0, 0, '/runs/r')")
    raw.execute("PRAGMA user_version=8")
    raw.commit()
    raw.close()
    conn = database.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 9
    assert get_pipeline_run(conn, "r").forced == {}
