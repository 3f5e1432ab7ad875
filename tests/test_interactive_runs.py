"""`Experiment.start_logging()`: an interactive run logged from the current process, recorded
in the store (a run with no steps) and listed like any run."""
from __future__ import annotations

import subprocess
import sys

import pytest

from runner.sdk import Experiment
from runner.sdk.interactive_run import InteractiveRun
from store.artifacts import list_artifacts
from store.runs import get_pipeline_run, get_step_runs, list_pipeline_runs
from tests.conftest import REPO


def test_log_upload_and_complete_are_recorded(workspace, tmp_path, write):
    write("notes.txt", "hello")
    write("outputs/model.pkl", "weights")
    run = Experiment(workspace, "interactive").start_logging(display_name="explore")
    assert type(run) is InteractiveRun and run.type == "azureml.interactive"
    assert run.get_status() == "Running"
    run.log("alpha", 0.1)
    run.log("loss", 0.5)
    run.log("loss", 0.25)
    run.log_row("table", epoch=1, acc=0.9)
    run.tag("phase", "eda")
    run.upload_file("notes/notes.txt", str(tmp_path / "notes.txt"))
    run.complete()
    conn = workspace._local.conn
    record = get_pipeline_run(conn, run.id)
    assert (record.status, record.experiment_name, record.pipeline_name, record.error) == (
        "Finished", "interactive", "explore", None)
    assert get_step_runs(conn, run.id) == []
    assert run.get_metrics() == {"alpha": 0.1, "loss": [0.5, 0.25], "table": {"epoch": 1, "acc": 0.9}}
    assert run.get_tags() == {"phase": "eda"}
    assert run.get_file_names() == ["notes/notes.txt", "outputs/model.pkl"]
    assert sorted(a.name for a in list_artifacts(conn, run.id)) == ["notes/notes.txt", "outputs/model.pkl"]
    run.download_file("outputs/model.pkl", str(tmp_path / "back.pkl"))
    assert (tmp_path / "back.pkl").read_text() == "weights"
    assert [r.id for r in list_pipeline_runs(conn)] == [run.id]


def test_fail_records_the_error(workspace):
    run = Experiment(workspace, "interactive").start_logging()
    run.fail(error_details="data was empty", error_code="NoData")
    record = get_pipeline_run(workspace._local.conn, run.id)
    assert (record.status, record.error, record.pipeline_name) == ("Failed", "NoData: data was empty",
                                                                   "interactive")


def test_as_a_context_manager_it_completes_or_fails(workspace):
    with Experiment(workspace, "interactive").start_logging() as ok:
        ok.log("x", 1)
    assert ok.get_status() == "Finished"
    with pytest.raises(ValueError):
        with Experiment(workspace, "interactive").start_logging() as bad:
            raise ValueError("bad value")
    record = get_pipeline_run(workspace._local.conn, bad.id)
    assert (record.status, record.error) == ("Failed", "ValueError: bad value")


def test_a_run_its_process_never_completed_ends_failed_not_running(tmp_path):
    code = ("from azureml.core import Workspace, Experiment\n"
            "run = Experiment(Workspace.from_config(), 'left-open').start_logging()\n"
            "run.log('x', 1)\nprint(run.id)\n")
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal"), "PYTHONPATH": f"{REPO / 'runner' / 'compat'}:{REPO}"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[-1]
    from runner.engine.liveness import reconcile_run
    from store.workspace import open_workspace_at
    with open_workspace_at(tmp_path / ".amlocal") as local:
        reconcile_run(local.conn, local.layout, run_id)
        record = get_pipeline_run(local.conn, run_id)
    assert record.status == "Failed"
    assert record.error == "runner lost: the runner process of this run is gone (killed or crashed)"
