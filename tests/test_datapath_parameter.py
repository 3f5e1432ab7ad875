"""The SDK's `(PipelineParameter(DataPath), DataPathComputeBinding(mode=...))` step input, as
in Microsoft's datapath-and-pipelineparameter notebook: the step reads the DataPath's folder,
and each submit may point it elsewhere with `pipeline_parameters={name: DataPath(...)}`."""
from __future__ import annotations

import json

import pytest

from runner.sdk import (DataPath, DataPathComputeBinding, Experiment, Pipeline, PipelineParameter,
                        PythonScriptStep)
from store.runs import get_pipeline_run

READER = """
    import json, os, sys
    from azureml.core import Run
    folder = sys.argv[2]
    seen = {"argv": sys.argv[1:], "env": os.environ.get("AZUREML_DATAREFERENCE_input_datapath"),
            "files": sorted(os.listdir(folder)),
            "text": open(os.path.join(folder, "data.txt")).read()}
    Run.get_context().log("seen", json.dumps(seen))
"""


def _pipeline(workspace, tmp_path, write, mode="mount"):
    write("steps/train.py", READER)
    ds = workspace.get_default_datastore()
    for name in ("sample_datapath1", "sample_datapath2"):
        write(f"data/{name}/data.txt", f"this is {name}")
        ds.upload(str(tmp_path / "data" / name), target_path=name, show_progress=False)
    data_path = DataPath(datastore=ds, path_on_datastore="sample_datapath1")
    datapath1_pipeline_param = PipelineParameter(name="input_datapath", default_value=data_path)
    datapath_input = (datapath1_pipeline_param, DataPathComputeBinding(mode=mode))
    step = PythonScriptStep(script_name="train.py", name="train", arguments=["--arg1", datapath_input],
                            inputs=[datapath_input], source_directory=str(tmp_path / "steps"))
    return Pipeline(workspace=workspace, steps=[step]), ds


def _seen(run) -> dict:
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step,) = run.find_step_run("train")
    return json.loads(step.get_metrics()["seen"])


def test_the_default_datapath_is_the_steps_input_and_argument(workspace, tmp_path, write):
    pipeline, ds = _pipeline(workspace, tmp_path, write)
    run = Experiment(workspace, "datapath").submit(pipeline)
    root = workspace._local.layout.datastore_dir("workspaceblobstore")
    assert _seen(run) == {"argv": ["--arg1", str(root / "sample_datapath1")],
                          "env": str(root / "sample_datapath1"), "files": ["data.txt"],
                          "text": "this is sample_datapath1"}
    assert get_pipeline_run(workspace._local.conn, run.id).parameters == {
        "input_datapath": {"datastore": "workspaceblobstore", "path": "sample_datapath1"}}


def test_a_submit_points_the_parameter_at_another_datapath(workspace, tmp_path, write):
    pipeline, ds = _pipeline(workspace, tmp_path, write, mode="download")
    run = Experiment(workspace, "datapath").submit(pipeline, pipeline_parameters={
        "input_datapath": DataPath(datastore=ds, path_on_datastore="sample_datapath2")})
    seen = _seen(run)
    assert (seen["text"], seen["files"]) == ("this is sample_datapath2", ["data.txt"])
    (step,) = run.find_step_run("train")
    workdir = workspace._local.layout.step_run_dir(run.id, step.id) / "wd"
    assert seen["argv"] == ["--arg1", str(workdir / "workspaceblobstore" / "sample_datapath2")]
    assert seen["env"] == seen["argv"][1]  # downloaded as the SDK does: <workdir>/<datastore>/<path>
    assert get_pipeline_run(workspace._local.conn, run.id).parameters == {
        "input_datapath": {"datastore": "workspaceblobstore", "path": "sample_datapath2"}}


def test_a_value_that_is_not_a_datapath_is_refused_at_submit(workspace, tmp_path, write):
    pipeline, _ = _pipeline(workspace, tmp_path, write)
    with pytest.raises(Exception) as caught:
        Experiment(workspace, "datapath").submit(pipeline, pipeline_parameters={"input_datapath": "sample_datapath2"})
    assert str(caught.value) == ("Pipeline parameter input_datapath expects a DataPath (DataPath(datastore, "
                                 "path_on_datastore)), got str 'sample_datapath2'")
