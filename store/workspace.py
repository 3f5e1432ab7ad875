"""An open workspace: its folder layout plus a database connection."""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from store.database import connect, transaction
from store.layout import DEFAULT_DATASTORES, WorkspaceLayout


@dataclass
class OpenWorkspace:
    """A workspace folder and a connection to its database, ready to use."""

    layout: WorkspaceLayout
    conn: sqlite3.Connection

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "OpenWorkspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_workspace(layout: WorkspaceLayout) -> OpenWorkspace:
    """Open (and on first use initialise) the workspace at `layout`.

    Initialising registers the two default datastores, as every Azure ML workspace has them.
    """
    layout.ensure()
    conn = connect(layout.db_path)
    has_default = conn.execute("SELECT 1 FROM datastore LIMIT 1").fetchone()
    if not has_default:
        now = time.time()
        with transaction(conn):
            for name, kind in zip(DEFAULT_DATASTORES, ("AzureBlob", "AzureFile")):
                conn.execute(
                    "INSERT OR IGNORE INTO datastore (name, datastore_type, config_json, "
                    "is_default, created_at) VALUES (?, ?, ?, ?, ?)",
                    (name, kind, json.dumps({"container_name": name, "account_name": "local"}),
                     name == "workspaceblobstore", now))
    return OpenWorkspace(layout, conn)


def open_workspace_at(root: Path) -> OpenWorkspace:
    """Open the workspace whose folder is `root` (the `.amlocal` folder itself)."""
    return open_workspace(WorkspaceLayout(Path(root)))
