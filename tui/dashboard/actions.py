"""Actions on runs started from the dashboard: they go through the client API, which starts a
runner process of its own; nothing runs inside the UI process (a changed pipeline script is
evaluated again in a fresh process, `runner.engine.script_eval`)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from runner.client import Client
from runner.errors import RunnerError
from runner.engine.script_eval import evaluate_script, script_changed
from store.layout import WorkspaceLayout
from store.runs import get_pipeline_run
from store.workspace import open_workspace
from tui.rerun_command import parse_params


def rerun_run(layout: WorkspaceLayout, run_id: str, regenerate: bool) -> str:
    """Submit `run_id`'s pipeline again; returns the new run id."""
    with open_workspace(layout) as local:
        return Client(local).rerun(run_id, regenerate_outputs=regenerate).run_id


def rerun_or_evaluate(layout: WorkspaceLayout, run_id: str) -> str:
    """`r`: a run made by a pipeline script that changed since is made again by evaluating
    the script (in a fresh process); any other run is resubmitted as it was. Returns what was
    done, in words."""
    with open_workspace(layout) as local:
        run = get_pipeline_run(local.conn, run_id)
    script = Path(run.script) if run.script else None
    if script is None or not script_changed(run.run_dir, script):
        return f"started run {rerun_run(layout, run_id, regenerate=False)[:8]}"
    done = evaluate_script(layout.root, script)
    if not done.submitted:
        raise RunnerError(f"{script.name} changed since run {run_id[:8]}, and evaluating it "
                          f"submitted no run: {done.last_error}")
    return (f"{script.name} changed since run {run_id[:8]}: evaluated it again "
            f"(run {done.submitted[-1][:8]})")


def resubmit(layout: WorkspaceLayout, run_id: str, values: Mapping[str, str],
             steps_text: str) -> str:
    """The resubmit dialog's OK: `run_id` again with the parameter `values` (text, parsed as
    `amlocal rerun --param` parses them) and the comma-separated step names `steps_text`
    forced; a bad name or value raises before anything is submitted."""
    with open_workspace(layout) as local:
        run = get_pipeline_run(local.conn, run_id)
        parameters = parse_params([f"{k}={v}" for k, v in values.items()], dict(run.parameters))
        steps = tuple(s.strip() for s in steps_text.split(",") if s.strip())
        submitted = Client(local).rerun(run_id, parameters=parameters, steps=steps)
    return f"started run {submitted.run_id[:8]}"


def cancel(layout: WorkspaceLayout, run_id: str) -> str:
    """Ask `run_id`'s runner to stop; returns what was done, in words."""
    with open_workspace(layout) as local:
        return Client(local).cancel(run_id)


def perform(layout: WorkspaceLayout, run_id: str, what: str) -> str:
    """`rerun`, `regenerate` or `cancel` run `run_id`; returns what was done, in words."""
    if what == "cancel":
        return cancel(layout, run_id)
    if what == "rerun":
        return rerun_or_evaluate(layout, run_id)
    return f"started run {rerun_run(layout, run_id, regenerate=True)[:8]}"
