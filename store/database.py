"""Opening the SQLite database: WAL, a busy timeout, and a schema version check.

A new database is created in one transaction from the SQLModel declarations in
`store.schema`; an existing one is opened with `sqlite3` alone (no SQLModel import) after
checking `PRAGMA user_version`. An older database is brought up to date by the additive
statements in `MIGRATIONS`, in one transaction; a newer one is refused.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from store.errors import SchemaVersionError, StoreError

# Kept in step with store.schema.SCHEMA_VERSION (a test checks it); duplicated so that
# opening an existing database does not import SQLModel.
SCHEMA_VERSION = 9
# pipeline_run columns added in version 4 → the property that held them before.
_OPTION_COLUMNS = {"script_path": "amlocal.script", "executor": "amlocal.executor",
                   "base_image": "amlocal.base_image",
                   "subscription_id": "amlocal.workspace.subscription_id",
                   "resource_group": "amlocal.workspace.resource_group",
                   "workspace_name": "amlocal.workspace.workspace_name"}
# version → the statements that turn a database of that version into the next one.
MIGRATIONS: dict[int, list[str]] = {
    1: ["ALTER TABLE step_run ADD COLUMN fingerprint VARCHAR",
        "ALTER TABLE step_run ADD COLUMN fingerprint_json VARCHAR",
        "CREATE INDEX ix_step_run_fingerprint ON step_run (fingerprint)"],
    2: ["ALTER TABLE step_run ADD COLUMN phases_json VARCHAR NOT NULL DEFAULT '{}'"],
    # Submit options become columns; older runs kept them as amlocal.* properties.
    3: [*(f"ALTER TABLE pipeline_run ADD COLUMN {column} VARCHAR" for column in _OPTION_COLUMNS),
        "UPDATE pipeline_run SET " + ", ".join(
            f"{column} = json_extract(properties_json, '$.\"{key}\"')"
            for column, key in _OPTION_COLUMNS.items()),
        "UPDATE pipeline_run SET properties_json = json_remove(properties_json, " + ", ".join(
            f"'$.\"{key}\"'" for key in _OPTION_COLUMNS.values()) + ")"],
    4: ["ALTER TABLE module_version ADD COLUMN status VARCHAR NOT NULL DEFAULT 'Active'",
        "CREATE TABLE pipeline_draft (id VARCHAR NOT NULL, name VARCHAR NOT NULL, "
        "description VARCHAR, experiment_name VARCHAR NOT NULL, pipeline_id VARCHAR NOT NULL, "
        "parameters_json VARCHAR NOT NULL, continue_on_step_failure BOOLEAN, "
        "tags_json VARCHAR NOT NULL, properties_json VARCHAR NOT NULL, parent_pipeline_id VARCHAR, "
        "parent_pipeline_run_id VARCHAR, parent_step_run_ids_json VARCHAR NOT NULL, "
        "parent_pipeline_draft_id VARCHAR, last_submitted_pipeline_run_id VARCHAR, "
        "created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL, PRIMARY KEY (id), "
        "FOREIGN KEY(pipeline_id) REFERENCES pipeline (id))",
        "CREATE INDEX ix_pipeline_draft_name ON pipeline_draft (name)"],
    # How far the step's event file was ingested, so that whoever finishes a run whose runner
    # died ingests the rest, once.
    5: ["ALTER TABLE step_run ADD COLUMN events_offset INTEGER NOT NULL DEFAULT 0"],
    # PipelineEndpoint: named endpoints of published pipeline versions; schedules.
    6: ["CREATE TABLE pipeline_endpoint (id VARCHAR NOT NULL, name VARCHAR NOT NULL, "
        "description VARCHAR, default_version VARCHAR NOT NULL, status VARCHAR NOT NULL, "
        "created_at FLOAT NOT NULL, PRIMARY KEY (id))",
        "CREATE UNIQUE INDEX ix_pipeline_endpoint_name ON pipeline_endpoint (name)",
        "CREATE TABLE pipeline_endpoint_version (endpoint_id VARCHAR NOT NULL, "
        "version VARCHAR NOT NULL, published_pipeline_id VARCHAR NOT NULL, "
        "created_at FLOAT NOT NULL, PRIMARY KEY (endpoint_id, version), "
        "FOREIGN KEY(endpoint_id) REFERENCES pipeline_endpoint (id), "
        "FOREIGN KEY(published_pipeline_id) REFERENCES published_pipeline (id))",
        # Schedule: recurrence schedules the workspace service fires.
        "CREATE TABLE schedule (id VARCHAR NOT NULL, name VARCHAR NOT NULL, description VARCHAR, "
        "pipeline_id VARCHAR, pipeline_endpoint_id VARCHAR, experiment_name VARCHAR NOT NULL, "
        "parameters_json VARCHAR NOT NULL, recurrence_json VARCHAR NOT NULL, "
        "continue_on_step_failure BOOLEAN, status VARCHAR NOT NULL, last_fired_at FLOAT, "
        "last_run_id VARCHAR, created_at FLOAT NOT NULL, PRIMARY KEY (id))",
        "CREATE INDEX ix_schedule_name ON schedule (name)"],
    # Registries: datasets, models and environments, with versions, and what used them.
    7: ["CREATE TABLE IF NOT EXISTS registered_asset (id VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
        "name VARCHAR NOT NULL, version INTEGER NOT NULL, description VARCHAR, "
        "tags_json VARCHAR NOT NULL, properties_json VARCHAR NOT NULL, "
        "definition_json VARCHAR NOT NULL, content_json VARCHAR NOT NULL, "
        "made_by_step_run_id VARCHAR, made_by_pipeline_run_id VARCHAR, "
        "created_at FLOAT NOT NULL, PRIMARY KEY (id))",
        "CREATE INDEX IF NOT EXISTS ix_registered_asset_kind ON registered_asset (kind)",
        "CREATE UNIQUE INDEX IF NOT EXISTS ix_registered_asset_version ON registered_asset (kind, name, version)",
        "CREATE TABLE IF NOT EXISTS asset_use (asset_id VARCHAR NOT NULL, step_run_id VARCHAR NOT NULL, "
        "pipeline_run_id VARCHAR NOT NULL, used_at FLOAT NOT NULL, "
        "PRIMARY KEY (asset_id, step_run_id), "
        "FOREIGN KEY(asset_id) REFERENCES registered_asset (id))",
        "CREATE INDEX IF NOT EXISTS ix_asset_use_step_run_id ON asset_use (step_run_id)"],
    # Steps a rerun forces to run (`amlocal rerun RUN --step NAME`); datastore schedules: what
    # they watch and the files they saw last (a recurrence schedule keeps both NULL; a
    # datastore schedule's recurrence_json is 'null').
    8: ["ALTER TABLE pipeline_run ADD COLUMN forced_json VARCHAR NOT NULL DEFAULT '{}'",
        "ALTER TABLE schedule ADD COLUMN datastore_trigger_json VARCHAR",
        "ALTER TABLE schedule ADD COLUMN watched_files_json VARCHAR"],
}
BUSY_TIMEOUT_MS = 10_000
LOCK_PATIENCE_SECONDS = 3600.0  # how long a writer keeps retrying a lock held by another program
APPLICATION_ID = 0x616D6C63  # "amlc": marks the file as an amlocal database


def damaged_database_message(exc: Exception, path: Path | str | None = None) -> str:
    """What to tell the user when SQLite finds the workspace database damaged."""
    where = str(path) if path is not None else "the workspace database (.amlocal/amlocal.db)"
    return (f"{where} is damaged ({exc}); move it away and run `sqlite3 OLD.db .recover | "
            "sqlite3 amlocal.db` to keep what can be saved, or start afresh without it")


def _check_openable(path: Path) -> None:
    """A folder at the database's path, or a 0-byte database beside existing run folders
    (which would be silently re-created empty), is a StoreError naming it."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not the workspace database; move it away")
    runs = path.parent / "runs"
    if path.exists() and path.stat().st_size == 0 and runs.is_dir() and any(runs.iterdir()):
        raise StoreError(f"{path} is empty (0 bytes) but {runs} holds runs: the database was "
                         "lost or truncated; restore it from a backup, or move the workspace "
                         "folder away to start afresh")


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the workspace database and return a ready connection.

    Rows come back as `sqlite3.Row`; the connection is in autocommit mode, so callers group
    writes with `with transaction(conn):`.
    """
    path = Path(path)
    _check_openable(path)
    is_new = not path.exists() or path.stat().st_size == 0
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be opened as the workspace database ({exc})") from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if is_new or _user_version(conn) == 0:
            _create_schema(conn, path)
        elif 0 < _user_version(conn) < SCHEMA_VERSION:
            _migrate(conn)
        _check_version(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(damaged_database_message(exc, path)) from exc
    except StoreError:
        conn.close()
        raise
    return conn


def begin_immediate(conn: sqlite3.Connection, patience: float | None = None) -> None:
    """`BEGIN IMMEDIATE`, waiting with backoff while another program holds the write lock
    longer than the busy timeout (a database browser, a backup): a held lock delays a writer,
    never fails it, for up to `patience` seconds (default LOCK_PATIENCE_SECONDS)."""
    deadline = time.monotonic() + (LOCK_PATIENCE_SECONDS if patience is None else patience)
    pause = 0.05
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


class transaction:
    """Context manager: `BEGIN IMMEDIATE` … `COMMIT`, or `ROLLBACK` on an exception.

    Inside another transaction on the same connection it only joins it: the outer one commits
    or rolls back everything (so a batch of store calls can be made atomic by its caller).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.joined = False

    def __enter__(self) -> sqlite3.Connection:
        self.joined = self.conn.in_transaction
        if not self.joined:
            begin_immediate(self.conn)
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.joined:
            return
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


def _user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = _user_version(conn)
    if app_id != APPLICATION_ID:
        raise SchemaVersionError(
            f"{path} is not an amlocal database (it has tables but no amlocal marker); "
            "move it away or point AMLOCAL_HOME at another workspace")
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} was written by a newer amlocal (schema {version}, this amlocal reads "
            f"{SCHEMA_VERSION}); upgrade amlocal, or use another workspace")
    raise SchemaVersionError(
        f"{path} was written by an older amlocal (schema {version}, this amlocal reads "
        f"{SCHEMA_VERSION}); there is no migration: move the .amlocal folder away to start "
        "afresh, or run the older amlocal to read it")


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply MIGRATIONS from the database's version up to SCHEMA_VERSION, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # again: another process may have migrated meanwhile
        while version in MIGRATIONS and version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            version += 1
            conn.execute(f"PRAGMA user_version={version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def schema_statements() -> list[str]:
    """The CREATE TABLE / CREATE INDEX statements generated from `store.schema`."""
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from store.schema import SCHEMA_VERSION as declared, SQLModel

    if declared != SCHEMA_VERSION:
        raise StoreError(f"store.schema declares version {declared}, store.database {SCHEMA_VERSION}")
    dialect = sqlite_dialect.dialect()
    statements: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return statements


def _create_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create every table in one transaction, unless another process won the race."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _user_version(conn) != 0:  # created meanwhile by another process
            conn.execute("COMMIT")
            return
        has_tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        if has_tables:
            conn.execute("COMMIT")
            return  # _check_version reports the foreign file
        for statement in schema_statements():
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
