"""The database refuses other schema versions; the layering and SDK fidelity hold."""
from __future__ import annotations

import ast
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from store import database
from store.errors import SchemaVersionError
from tests.conftest import REPO


def test_fresh_database_is_wal_and_versioned(tmp_path):
    conn = database.connect(tmp_path / "a.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION
    from store.schema import SCHEMA_VERSION
    assert SCHEMA_VERSION == database.SCHEMA_VERSION


def test_a_newer_schema_gets_a_clear_message(tmp_path):
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={database.SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(SchemaVersionError, match="written by a newer amlocal"):
        database.connect(path)


def test_a_version_1_database_is_migrated_on_open_and_keeps_its_rows(tmp_path):
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)  # make it what amlocal 1 wrote: no fingerprint columns
    raw.execute("DROP INDEX ix_step_run_fingerprint")
    raw.execute("ALTER TABLE step_run DROP COLUMN fingerprint")
    raw.execute("ALTER TABLE step_run DROP COLUMN fingerprint_json")
    raw.execute("ALTER TABLE step_run DROP COLUMN phases_json")
    for column in ("script_path", "executor", "base_image", "subscription_id", "resource_group",
                   "workspace_name"):
        raw.execute(f"ALTER TABLE pipeline_run DROP COLUMN {column}")
    raw.execute("ALTER TABLE module_version DROP COLUMN status")  # added in schema 5
    raw.execute("DROP TABLE pipeline_draft")  # added in schema 5
    raw.execute("ALTER TABLE step_run DROP COLUMN events_offset")  # added in schema 6
    raw.execute("DROP TABLE pipeline_endpoint_version")  # added in schema 7
    raw.execute("DROP TABLE pipeline_endpoint")
    raw.execute("DROP TABLE schedule")
    raw.execute("INSERT INTO experiment (id, name, created_at, tags_json) VALUES ('e', 'kept', 0, '{}')")
    raw.execute("ALTER TABLE pipeline_run DROP COLUMN forced_json")  # added in schema 9
    raw.execute("PRAGMA user_version=1")
    raw.commit()
    raw.close()
    conn = database.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION
    columns = {row[1] for row in conn.execute("PRAGMA table_info(step_run)")}
    assert {"fingerprint", "fingerprint_json"} <= columns
    assert conn.execute("SELECT name FROM experiment").fetchone()[0] == "kept"
    fresh = database.connect(tmp_path / "b.db")
    schema = lambda c: sorted(r[0] for r in c.execute(  # noqa: E731
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')"))
    assert schema(conn) == schema(fresh)


def test_a_version_3_database_moves_the_submit_options_out_of_the_properties(tmp_path):
    """Runs recorded before the options became columns keep their script, executor, base image
    and workspace identity (what reruns and watchers use); their properties are the SDK's."""
    from store.runs import get_pipeline_run
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)
    for column in ("script_path", "executor", "base_image", "subscription_id", "resource_group",
                   "workspace_name"):
        raw.execute(f"ALTER TABLE pipeline_run DROP COLUMN {column}")
    raw.execute("ALTER TABLE module_version DROP COLUMN status")
    raw.execute("DROP TABLE pipeline_draft")
    raw.execute("ALTER TABLE step_run DROP COLUMN events_offset")
    raw.execute("DROP TABLE pipeline_endpoint_version")  # added in schema 7
    raw.execute("DROP TABLE pipeline_endpoint")
    raw.execute("DROP TABLE schedule")
    raw.execute("INSERT INTO experiment (id, name, created_at, tags_json) VALUES ('e', 'x', 0, '{}')")
    raw.execute("INSERT INTO pipeline (id, name, spec_hash, spec_json, created_at) "
                "VALUES ('p', 'pipe', 'h', '{\"steps\": []}', 0)")
    properties = {"azureml.git.branch": "main", "amlocal.executor": "docker",
                  "amlocal.base_image": "img:1", "amlocal.script": "/src/pipeline.py",
                  "amlocal.workspace.subscription_id": "sub", "amlocal.workspace.resource_group": "rg",
                  "amlocal.workspace.workspace_name": "ws"}
    raw.execute("INSERT INTO pipeline_run (id, experiment_id, pipeline_id, status, created_at, "
                "parameters_json, tags_json, properties_json, continue_on_step_failure, "
                "regenerate_outputs, cancel_requested, run_dir) VALUES ('r', 'e', 'p', 'Finished', "
                "0, '{}', '{}', ?, 0, 0, 0, '/runs/r')", (json.dumps(properties),))
    raw.execute("ALTER TABLE pipeline_run DROP COLUMN forced_json")  # added in schema 9
    raw.execute("PRAGMA user_version=3")
    raw.commit()
    raw.close()
    run = get_pipeline_run(database.connect(path), "r")
    assert (run.executor, run.base_image, run.script) == ("docker", "img:1", "/src/pipeline.py")
    assert (run.subscription_id, run.resource_group, run.workspace_name) == ("sub", "rg", "ws")
    assert dict(run.properties) == {"azureml.git.branch": "main"}


def test_a_version_5_database_gets_the_ingested_offset_of_its_step_runs(tmp_path):
    """Step runs recorded before schema 6 count as not ingested yet (offset 0, an int)."""
    from store.runs import events_offset
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE step_run DROP COLUMN events_offset")
    raw.execute("DROP TABLE pipeline_endpoint_version")  # added in schema 7
    raw.execute("DROP TABLE pipeline_endpoint")
    raw.execute("DROP TABLE schedule")
    raw.execute("INSERT INTO experiment (id, name, created_at, tags_json) VALUES ('e', 'x', 0, '{}')")
    raw.execute("INSERT INTO pipeline (id, name, spec_hash, spec_json, created_at) "
                "VALUES ('p', 'pipe', 'h', '{\"steps\": []}', 0)")
    raw.execute("INSERT INTO pipeline_run (id, experiment_id, pipeline_id, status, created_at, "
                "parameters_json, tags_json, properties_json, continue_on_step_failure, "
                "regenerate_outputs, cancel_requested, run_dir) VALUES ('r', 'e', 'p', 'Finished', "
                "0, '{}', '{}', '{}', 0, 0, 0, '/runs/r')")
    raw.execute("INSERT INTO step_run (id, pipeline_run_id, node_id, name, position, status, "
                "created_at, phases_json, arguments_json, outputs_json, properties_json, tags_json, "
                "run_dir) VALUES ('s', 'r', 'n', 'train', 0, 'Finished', 0, '{}', '[]', '{}', '{}', "
                "'{}', '/runs/r/s')")
    raw.execute("ALTER TABLE pipeline_run DROP COLUMN forced_json")  # added in schema 9
    raw.execute("PRAGMA user_version=5")
    raw.commit()
    raw.close()
    offset = events_offset(database.connect(path), "s")
    assert offset == 0 and type(offset) is int


def test_a_version_6_database_gets_the_pipeline_endpoint_tables(tmp_path):
    """A workspace from before PipelineEndpoint opens with empty endpoint tables that work."""
    from store.pipeline_endpoints import create_endpoint, list_endpoints
    path = tmp_path / "a.db"
    database.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE pipeline_endpoint_version")  # added in schema 7
    raw.execute("DROP TABLE pipeline_endpoint")
    raw.execute("DROP TABLE schedule")
    raw.execute("DROP TABLE asset_use")  # added in schema 8
    raw.execute("DROP TABLE registered_asset")
    raw.execute("ALTER TABLE pipeline_run DROP COLUMN forced_json")  # added in schema 9
    raw.execute("PRAGMA user_version=6")
    raw.commit()
    raw.close()
    conn = database.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION
    assert list_endpoints(conn, active_only=False) == []
    from store import catalog
    pub = catalog.publish_pipeline(conn, catalog.ensure_pipeline(conn, "p", {"steps": []}), "p",
                                   None, None, None)
    made = create_endpoint(conn, "nightly", None, pub)
    assert (made.name, made.default_version, made.versions) == ("nightly", "0", (("0", pub),))
    from store.schedules import list_schedules
    assert list_schedules(conn) == []


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE mine (x)")
    raw.commit()
    raw.close()
    with pytest.raises(SchemaVersionError, match="is not an amlocal database"):
        database.connect(path)
    assert sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall() == [("mine",)]


def test_import_layers_hold():
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_no_import_cycle_among_the_projects_modules():
    """Function-level imports count too: a lazy import is still a dependency."""
    import graphlib

    import grimp
    graph = grimp.build_graph("runner", "store", "tui", include_external_packages=False)
    dependencies = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    try:
        graphlib.TopologicalSorter(dependencies).prepare()
    except graphlib.CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None


def test_no_sql_outside_the_store():
    """The store owns all SQL: no statement text in runner/ or tui/."""
    import re
    statement = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|PRAGMA|BEGIN)\b")
    found = []
    for package in ("runner", "tui"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and statement.match(node.value) and " " in node.value.strip():
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []


def test_step_runtime_imports_only_the_standard_library():
    """Only the standard library at import time; the data packages a TabularDataset reads
    with (as the SDK needs azureml-dataprep) only inside the functions that need them."""
    lazy = {"pandas", "numpy", "pyarrow", "dask"}
    for path in (REPO / "runner" / "step_runtime").glob("*.py"):
        tree = ast.parse(path.read_text())
        in_functions = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                        for n in ast.walk(f)}
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith("runner.step_runtime") \
                    or (top in lazy and id(node) in in_functions), f"{path.name} imports {name}"


def test_in_step_imports_do_not_load_the_client_side():
    code = ("import sys; from azureml.core import Run; Run.get_context(); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('store', 'sqlmodel', 'psutil', 'pathspec')"
            " or m.startswith('runner.sdk')]; print(bad)")
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": f"{REPO / 'runner' / 'compat'}:{REPO}"})
    assert done.stdout.strip() == "[]", done.stderr


def test_offline_run_prints_as_the_sdk_does(capsys):
    from runner.step_runtime import Run
    run = Run.get_context()
    assert run.id.startswith("OfflineRun_") and Run.get_context().id != run.id
    run.log("accuracy", 0.9)
    assert capsys.readouterr().out == "Attempted to log scalar metric accuracy:\n0.9\n"


def test_seed_api_fidelity_is_complete():
    checker = REPO.parent / "shared" / "azureml-v1" / "check_api.py"
    if not checker.exists():
        pytest.skip(f"{checker} is not beside this checkout")
    done = subprocess.run([sys.executable, str(checker), "--sys-path", "runner/compat",
                           "--seed-only", "--quiet"], cwd=REPO, capture_output=True, text=True)
    line = [l for l in done.stdout.splitlines() if l.startswith("seed api fidelity")][0]
    counts = line.split(": ", 1)[1].split(", ")
    for count in counts:
        have, total = count.split()[0].split("/")
        assert have == total, line
