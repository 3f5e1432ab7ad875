"""Rerunning a recorded pipeline run from its stored spec, with fresh snapshots.

This is what the dashboard's `r`/`R` (and later watch mode) call: everything comes from the
store, never from the user's Python objects, and the new run gets its own runner process.
"""
from __future__ import annotations

import json
from pathlib import Path

from runner.engine.submission import submit_run
from store.catalog import get_pipeline_spec
from store.runs import get_pipeline_run
from store.workspace import OpenWorkspace


def _source_folder(spec: dict, fallback: Path) -> Path:
    """Where to read git facts: the first step's source directory (else `fallback`)."""
    for step in spec["steps"]:
        if step.get("source_directory"):
            return Path(step["source_directory"])
    return fallback


def rerun(local: OpenWorkspace, run_id: str, regenerate_outputs: bool = False,
          start: bool = True) -> str:
    """Submit the pipeline of `run_id` again, with its parameters; returns the new run id.

    With `start=False` no runner process is started: the caller executes the run itself.
    """
    conn = local.conn
    run = get_pipeline_run(conn, run_id)
    pipeline = conn.execute("SELECT name FROM pipeline WHERE id = ?", (run["pipeline_id"],)).fetchone()
    spec = get_pipeline_spec(conn, run["pipeline_id"])
    properties = json.loads(run["properties_json"])
    identity = {k.split(".", 2)[2]: v for k, v in properties.items() if k.startswith("amlocal.workspace.")}
    new_id, _ = submit_run(
        local, experiment_name=run["experiment_name"], pipeline_name=pipeline["name"], spec=spec,
        cycle_errors=[], parameters=json.loads(run["parameters_json"]), tags={},
        continue_on_step_failure=bool(run["continue_on_step_failure"]),
        regenerate_outputs=regenerate_outputs, identity=identity,
        source_folder=_source_folder(spec, local.layout.root.parent),
        published_pipeline_id=run["published_pipeline_id"], start=start, rerun_of=properties)
    return new_id
