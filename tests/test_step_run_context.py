"""What a step's `Run.get_context()` gives beyond metrics: `run.experiment` and its
workspace, and `run.parent.cancel()`, which cancels the pipeline run (local executor)."""
from __future__ import annotations

import json

from runner.sdk import Experiment, Pipeline, PipelineData, PythonScriptStep
from store.runs import get_pipeline_run, get_step_runs

EXPERIMENT_PROBE = """
    import json, os, sys
    from azureml.core import Run
    run = Run.get_context()
    ws = run.experiment.workspace
    try:
        ws.get_mlflow_tracking_uri()
        missing = None
    except AttributeError as exc:
        missing = str(exc)
    seen = {"experiment": run.experiment.name, "parent_experiment": run.parent.experiment.name,
            "workspace": [ws.name, ws.subscription_id, ws.resource_group, ws.location],
            "types": [type(ws.name).__name__, type(ws.subscription_id).__name__],
            "repr": repr(ws), "missing": missing}
    os.makedirs(sys.argv[1], exist_ok=True)
    open(os.path.join(sys.argv[1], "seen.json"), "w").write(json.dumps(seen))
"""


def _seen(workspace, run, step_name: str, output: str) -> dict:
    (step_run,) = run.find_step_run(step_name)
    target = step_run.get_output_data(output)
    root = workspace._local.layout.datastore_dir("workspaceblobstore")
    return json.loads((root / target.path_on_datastore / "seen.json").read_text())


def test_run_experiment_has_the_workspace_the_run_was_submitted_to(workspace, write, tmp_path):
    from runner.sdk import Workspace
    write("steps/probe.py", EXPERIMENT_PROBE)
    ws = Workspace.get("ml-prod", subscription_id="1234", resource_group="rg-ml")
    out = PipelineData("seen", datastore=ws.get_default_datastore())
    step = PythonScriptStep("probe.py", name="probe", source_directory=str(tmp_path / "steps"),
                            arguments=[out], outputs=[out])
    run = Experiment(ws, "exp-ctx").submit(Pipeline(ws, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _seen(workspace, run, "probe", "seen") == {
        "experiment": "exp-ctx", "parent_experiment": "exp-ctx",
        "workspace": ["ml-prod", "1234", "rg-ml", "local"], "types": ["str", "str"],
        "repr": "Workspace.create(name='ml-prod', subscription_id='1234', resource_group='rg-ml')",
        "missing": "amlocal does not provide Workspace.get_mlflow_tracking_uri inside a step yet: "
                   "pass what the step needs as an argument or input instead"}


def test_run_experiment_workspace_of_the_local_workspace(workspace, write, tmp_path):
    write("steps/probe.py", EXPERIMENT_PROBE)
    out = PipelineData("seen", datastore=workspace.get_default_datastore())
    step = PythonScriptStep("probe.py", name="probe", source_directory=str(tmp_path / "steps"),
                            arguments=[out], outputs=[out])
    run = Experiment(workspace, "exp-local").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    seen = _seen(workspace, run, "probe", "seen")
    assert seen["workspace"][1:] == ["00000000-0000-0000-0000-000000000000", "amlocal", "local"]
    assert seen["workspace"][0] == workspace.name


def test_run_parent_cancel_in_a_step_cancels_the_pipeline_run(workspace, write, tmp_path):
    write("steps/a/a.py", "print('a ran')\n")
    write("steps/evaluate/evaluate.py", """
        import time
        from azureml.core import Run
        run = Run.get_context()
        print("new model is worse; canceling the pipeline", flush=True)
        run.parent.cancel()
        time.sleep(30)  # the runner stops the step before this ends
        print("never printed")
    """)
    write("steps/register/register.py", "open('registered', 'w').write('yes')\n")
    ds = workspace.get_default_datastore()
    first, second = PipelineData("first", datastore=ds), PipelineData("second", datastore=ds)
    a = PythonScriptStep("a.py", name="a", source_directory=str(tmp_path / "steps/a"),
                         arguments=[first], outputs=[first])
    evaluate = PythonScriptStep("evaluate.py", name="evaluate",
                                source_directory=str(tmp_path / "steps/evaluate"),
                                arguments=[first, second], inputs=[first], outputs=[second])
    register = PythonScriptStep("register.py", name="register",
                                source_directory=str(tmp_path / "steps/register"),
                                arguments=[second], inputs=[second])
    run = Experiment(workspace, "mlops").submit(Pipeline(workspace, [register]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    conn = workspace._local.conn
    record = get_pipeline_run(conn, run.id)
    assert (record.status, record.error) == ("Canceled", "canceled by step evaluate")
    steps = {s.name: (s.status, s.error) for s in get_step_runs(conn, run.id)}
    assert steps == {"a": ("Finished", None),
                     "evaluate": ("Canceled", "canceled by step evaluate"),
                     "register": ("Canceled", "not run: canceled by step evaluate")}
    evaluated = next(s for s in get_step_runs(conn, run.id) if s.name == "evaluate")
    stdout = workspace._local.layout.step_run_dir(run.id, evaluated.id) / "stdout.txt"
    assert stdout.read_text() == "new model is worse; canceling the pipeline\n"  # stopped in its sleep


def test_a_step_that_cancels_and_exits_at_once_is_canceled_not_reused(workspace, write, tmp_path):
    write("steps/gate/gate.py", """
        from azureml.core import Run
        Run.get_context().parent.cancel()
    """)
    write("steps/after/after.py", "print('after')\n")
    ds = workspace.get_default_datastore()
    gated = PipelineData("gated", datastore=ds)
    gate = PythonScriptStep("gate.py", name="gate", source_directory=str(tmp_path / "steps/gate"),
                            arguments=[gated], outputs=[gated])
    after = PythonScriptStep("after.py", name="after", source_directory=str(tmp_path / "steps/after"),
                             arguments=[gated], inputs=[gated])
    pipeline = Pipeline(workspace, [after])
    for _ in range(2):  # the second run does not reuse the gate: it canceled, it did not finish
        run = Experiment(workspace, "gate").submit(pipeline)
        assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
        steps = {s.name: (s.status, s.error) for s in get_step_runs(workspace._local.conn, run.id)}
        assert steps == {"gate": ("Canceled", "canceled by step gate"),
                         "after": ("Canceled", "not run: canceled by step gate")}
