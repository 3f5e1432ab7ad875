"""Submitting a pipeline run: checks, records, and a detached runner process.

Clients only create a queued run and start its runner; the runner (`runner.engine.runner_process`)
does the rest, so the submitting script may exit while the run goes on.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from runner.engine.executor_choice import (BASE_IMAGE_PROPERTY, EXECUTOR_PROPERTY, ExecutorChoice,
                                           choose_executor)
from runner.engine.gitinfo import read_git_info
from runner.engine.submit_planning import finish_if_all_reused
from runner.paths import PACKAGE_PARENT
from runner.pipeline_script import SCRIPT_ENV
from store import catalog
from store.runs import NewPipelineRun, create_pipeline_run
from store.workspace import OpenWorkspace

_TYPE_CODES = {bool: "int", int: "int", float: "float", str: "str"}
SCRIPT_PROPERTY = "amlocal.script"


def refuse_cycles(spec: dict, cycle_errors: list[str]) -> None:
    """Raise a clear error when the pipeline graph has a cycle."""
    if cycle_errors:
        raise ValueError("The pipeline graph has a cycle, so no step could start: "
                         + "; ".join(cycle_errors)
                         + " (check run_after() calls and which step lists each PipelineData "
                         "in outputs= and in inputs=)")


def check_parameters(spec: dict, values: dict[str, Any] | None) -> dict[str, Any]:
    """Submitted parameter values merged over the defaults, checked as the SDK checks them."""
    declared = spec.get("parameters", {})
    resolved = {name: p["default"] for name, p in declared.items()}
    for name, value in (values or {}).items():
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise Exception(f"Pipeline parameter with name {name} does not exist "
                            f"(this pipeline's parameters: {known})")
        kind = declared[name]["type"]
        if kind in ("int", "float", "str", "bool"):
            expected = "int" if kind == "bool" else kind
            got = _TYPE_CODES.get(type(value))
            if got != expected:
                raise Exception(f"Pipeline parameter {name} expects a value of type {expected}, "
                                f"got {type(value).__name__} {value!r}")
        resolved[name] = value
    return resolved


def submit_run(local: OpenWorkspace, *, experiment_name: str, pipeline_name: str, spec: dict,
               cycle_errors: list[str], parameters: dict | None, tags: dict | None,
               continue_on_step_failure: bool, regenerate_outputs: bool,
               identity: dict[str, str], source_folder: Path,
               published_pipeline_id: str | None = None,
               start: bool = True, rerun_of: dict[str, str] | None = None) -> tuple[str, ExecutorChoice]:
    """Record a new pipeline run and start its runner; returns the run id and its executor.

    `rerun_of`, the properties of the run this one repeats, lends it that run's base image
    (unless one is chosen explicitly) and its pipeline script (for watching).
    """
    origin = rerun_of or {}
    refuse_cycles(spec, cycle_errors)
    values = check_parameters(spec, parameters)
    choice = choose_executor(local.layout, origin.get(BASE_IMAGE_PROPERTY))
    conn = local.conn
    git = read_git_info(source_folder)
    run_id = str(uuid.uuid4())
    run_dir = local.layout.pipeline_run_dir(run_id)
    run_dir.mkdir(parents=True)
    experiment_id = catalog.ensure_experiment(conn, experiment_name)
    pipeline_id = catalog.ensure_pipeline(conn, pipeline_name, spec)
    properties = {**git.as_properties(), **{f"amlocal.workspace.{k}": v for k, v in identity.items()},
                  EXECUTOR_PROPERTY: choice.name}
    if choice.base_image:
        properties[BASE_IMAGE_PROPERTY] = choice.base_image
    script = os.environ.get(SCRIPT_ENV) or origin.get(SCRIPT_PROPERTY)  # what watch re-evaluates
    if script:
        properties[SCRIPT_PROPERTY] = script
    create_pipeline_run(conn, NewPipelineRun(
        id=run_id, experiment_id=experiment_id, pipeline_id=pipeline_id, run_dir=str(run_dir),
        parameters=values, tags={k: str(v) for k, v in (tags or {}).items()},
        properties=properties, continue_on_step_failure=bool(continue_on_step_failure),
        regenerate_outputs=bool(regenerate_outputs), published_pipeline_id=published_pipeline_id,
        git_repository=git.repository, git_branch=git.branch, git_commit=git.commit,
        git_dirty=git.dirty))
    if start and not finish_if_all_reused(local, run_id, choice, identity):
        start_runner(local.layout.root, run_id, run_dir)
    return run_id, choice


def start_runner(workspace_root: Path, run_id: str, run_dir: Path) -> int:
    """Start the detached runner process of `run_id`; returns its pid."""
    log = open(run_dir / "runner.log", "ab")
    try:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner.engine.runner_process", str(workspace_root), run_id],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            close_fds=True, cwd=str(run_dir), env=env)
    finally:
        log.close()
    # Reap the runner when it ends, so a long-lived client leaves no zombie behind.
    threading.Thread(target=proc.wait, name=f"reap-runner-{run_id[:8]}", daemon=True).start()
    return proc.pid
