"""Actions on runs started from the dashboard: they go through the client API, which starts a
runner process of its own; nothing runs inside the UI process."""
from __future__ import annotations

from runner.client import Client
from store.layout import WorkspaceLayout
from store.workspace import open_workspace


def rerun_run(layout: WorkspaceLayout, run_id: str, regenerate: bool) -> str:
    """Submit `run_id`'s pipeline again; returns the new run id."""
    with open_workspace(layout) as local:
        return Client(local).rerun(run_id, regenerate_outputs=regenerate).run_id


def cancel(layout: WorkspaceLayout, run_id: str) -> str:
    """Ask `run_id`'s runner to stop; returns what was done, in words."""
    with open_workspace(layout) as local:
        return Client(local).cancel(run_id)


def perform(layout: WorkspaceLayout, run_id: str, what: str) -> str:
    """`rerun`, `regenerate` or `cancel` run `run_id`; returns what was done, in words."""
    if what == "cancel":
        return cancel(layout, run_id)
    return f"started run {rerun_run(layout, run_id, regenerate=what == 'regenerate')[:8]}"
