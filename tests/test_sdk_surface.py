"""The rest of the SDK surface at run time: publishing, modules, attached compute, datasets,
data modes, the non-script steps, and reading runs back."""
from __future__ import annotations

import json
import sqlite3

import pytest

from runner.service_control import running_service

from runner.sdk import (AmlCompute, ComputeTarget, Dataset, DataTransferStep, Estimator,
                        EstimatorStep, Experiment, Module, ModuleStep, MpiStep, Pipeline,
                        PipelineData, PipelineParameter, PublishedPipeline, PythonScriptStep)
from runner.sdk.compute import AdlaCompute, DatabricksCompute
from runner.sdk.module import InputPortDef, OutputPortDef
from runner.sdk.steps.other_steps import DatabricksStep
from runner.step_runtime.exceptions import UserErrorException

ECHO_ARGS = """
    import json, os, sys
    out = os.environ["AZUREML_DATAREFERENCE_result"]
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "argv.json"), "w").write(json.dumps(sys.argv[1:]))
"""


def _blob_root(workspace):
    return workspace._local.layout.datastore_dir("workspaceblobstore")


def _read_output(workspace, step_run, port, name):
    ref = step_run.get_output_data(port)
    return (_blob_root(workspace) / ref.path_on_datastore / name).read_text()


def test_published_pipeline_is_submitted_again_by_id_with_new_parameters(workspace, write, tmp_path):
    write("steps/echo.py", ECHO_ARGS)
    rate = PipelineParameter("rate", default_value=1)
    result = PipelineData("result")
    step = PythonScriptStep("echo.py", name="echo", source_directory=str(tmp_path / "steps"),
                            arguments=["--rate", rate, result], outputs=[result])
    published = Pipeline(workspace, [step]).publish("nightly", description="d", version="3")
    record = running_service(workspace._local.layout)  # publish() started the service
    assert published.endpoint == (
        f"http://127.0.0.1:{record.port}/pipelines/v1.0/subscriptions/{workspace.subscription_id}"
        f"/resourceGroups/{workspace.resource_group}/providers/Microsoft.MachineLearningServices"
        f"/workspaces/test/PipelineRuns/PipelineSubmit/{published.id}")
    assert (published.name, published.version, published.status) == ("nightly", "3", "Active")
    assert published.get_step_names() == ["echo"]
    assert [p.id for p in PublishedPipeline.list(workspace)] == [published.id]

    run = PublishedPipeline.get(workspace, published.id).submit(
        workspace, "from-published", pipeline_parameters={"rate": 7})
    assert run.wait_for_completion(show_output=False) == "Finished"
    (echo,) = run.find_step_run("echo")
    assert json.loads(_read_output(workspace, echo, "result", "argv.json"))[:2] == ["--rate", "7"]

    published.disable()
    assert PublishedPipeline.list(workspace) == []
    assert [p.status for p in PublishedPipeline.list(workspace, active_only=False)] == ["Disabled"]


def test_module_versions_resolve_and_run_through_module_step(workspace, write, tmp_path):
    write("mod/score.py", """
        import os, sys
        src, dst, factor = sys.argv[1:4]
        value = int(open(os.path.join(src, "n.txt")).read()) * int(factor)
        os.makedirs(dst, exist_ok=True)
        open(os.path.join(dst, "n.txt"), "w").write(str(value))
    """)
    write("steps/seed.py", """
        import os, sys
        os.makedirs(sys.argv[1], exist_ok=True)
        open(os.path.join(sys.argv[1], "n.txt"), "w").write("6")
    """)
    module = Module.create(workspace, "scaler", "multiplies a number")
    assert Module.get(workspace, name="scaler").id == module.id
    source_in, scaled_out = InputPortDef("source"), OutputPortDef("scaled")
    module.publish_python_script("score.py", "v1", inputs=[source_in], outputs=[scaled_out],
                                 source_directory=str(tmp_path / "mod"), version="1",
                                 arguments=[source_in, scaled_out, 2])
    module.publish_python_script("score.py", "v2", inputs=[source_in], outputs=[scaled_out],
                                 source_directory=str(tmp_path / "mod"), version="2",
                                 is_default=True, arguments=[source_in, scaled_out, 10])
    assert module.resolve().version == "2" and module.resolve("1").version == "1"
    with pytest.raises(ValueError, match=r"Module scaler has no version '9' \(versions: 1, 2\)"):
        module.resolve("9")
    # The module's code was snapshotted when published: a later edit does not change version 1.
    write("mod/score.py", "raise SystemExit('edited after publishing')\n")

    seeded = PipelineData("seeded")
    scaled = PipelineData("scaled_data", output_name="scaled")
    seed = PythonScriptStep("seed.py", name="seed", source_directory=str(tmp_path / "steps"),
                            arguments=[seeded], outputs=[seeded])
    scale = ModuleStep(module, version="1", inputs_map={"source": seeded},
                       outputs_map={"scaled": scaled}, name="scale")
    run = Experiment(workspace, "modules").submit(Pipeline(workspace, [scale]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (scale_run,) = run.find_step_run("scale")
    assert _read_output(workspace, scale_run, "scaled", "n.txt") == "12"


def test_attached_compute_is_recorded_without_its_secret(workspace):
    config = DatabricksCompute.attach_configuration(resource_group="rg", workspace_name="dbw",
                                                    access_token="dapi-secret")
    target = ComputeTarget.attach(workspace, "dbx", config)
    assert isinstance(ComputeTarget(workspace, "dbx"), DatabricksCompute)
    assert target.type == "Databricks"
    adla = AdlaCompute.attach_configuration(resource_group="rg", account_name="lake")
    assert isinstance(ComputeTarget.attach(workspace, "lake", adla), AdlaCompute)
    with pytest.raises(Exception, match="Invalid configuration, give resource_id or "
                                        "resource_group and account_name"):
        ComputeTarget.attach(workspace, "bad", AdlaCompute.attach_configuration())
    db = workspace._local.layout.db_path
    assert b"dapi-secret" not in db.read_bytes()
    assert sorted(t.name for t in ComputeTarget.list(workspace)) == ["dbx", "lake"]


def test_databricks_python_script_runs_locally_and_a_notebook_is_refused_at_build(workspace, write, tmp_path):
    write("db/job.py", """
        import sys, os
        args = sys.argv[1:]
        out = args[args.index("--result") + 1]
        os.makedirs(out, exist_ok=True)
        open(os.path.join(out, "args.txt"), "w").write(" ".join(args[:2]))
    """)
    ComputeTarget.attach(workspace, "dbx", DatabricksCompute.attach_configuration(
        resource_group="rg", workspace_name="w"))
    result = PipelineData("result")
    script = DatabricksStep("job", outputs=[result], existing_cluster_id="c1",
                            python_script_name="job.py", source_directory=str(tmp_path / "db"),
                            python_script_params=["--alpha", 3], compute_target="dbx")
    run = Experiment(workspace, "dbx").submit(Pipeline(workspace, [script]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _read_output(workspace, run.find_step_run("job")[0], "result", "args.txt") == "--alpha 3"

    # A notebook needs Databricks: building the pipeline says so at once, in one line.
    notebook = DatabricksStep("nb", existing_cluster_id="c1", notebook_path="/Users/me/nb",
                              compute_target="dbx")
    with pytest.raises(UserErrorException) as refused:
        Pipeline(workspace, [notebook])
    assert str(refused.value) == (
        "DatabricksStep [nb] runs the notebook /Users/me/nb, which needs Databricks; amlocal runs "
        "Databricks steps locally only as python_script_name= from source_directory= (put the "
        "code in a .py script)")


def test_data_transfer_step_copies_between_datastores(workspace, write, tmp_path):
    from runner.sdk import Datastore
    write("src/raw/a.csv", "1,2\n")
    write("src/raw/sub/b.csv", "3,4\n")
    blob = workspace.get_default_datastore()
    blob.upload(str(tmp_path / "src" / "raw"), target_path="raw", show_progress=False)
    files = Datastore.register_azure_file_share(workspace, "share", "share", "acct", account_key="k")
    ComputeTarget.attach(workspace, "adf", AdlaCompute.attach_configuration(resource_id="x"))
    copy = DataTransferStep("copy", source_data_reference=blob.path("raw"),
                            destination_data_reference=files.path("copied", data_reference_name="dst"),
                            compute_target="adf")
    run = Experiment(workspace, "transfer").submit(Pipeline(workspace, [copy]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    share = workspace._local.layout.datastore_dir("share")
    assert (share / "copied" / "a.csv").read_text() == "1,2\n"
    assert (share / "copied" / "sub" / "b.csv").read_text() == "3,4\n"


def test_estimator_and_mpi_steps_run_their_entry_script(workspace, write, tmp_path):
    write("est/entry.py", ECHO_ARGS)
    ComputeTarget.create(workspace, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))
    result_a, result_b = PipelineData("result"), PipelineData("result")
    estimator = Estimator(source_directory=str(tmp_path / "est"), entry_script="entry.py",
                          compute_target="cpu")
    est = EstimatorStep("est", estimator=estimator, estimator_entry_script_arguments=["--e", 1],
                        outputs=[result_a], compute_target="cpu")
    mpi = MpiStep("mpi", source_directory=str(tmp_path / "est"), script_name="entry.py",
                  arguments=["--m", 2], outputs=[result_b], compute_target="cpu",
                  node_count=1, process_count_per_node=1)
    run = Experiment(workspace, "est").submit(Pipeline(workspace, [est, mpi]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert json.loads(_read_output(workspace, run.find_step_run("est")[0], "result", "argv.json")) == ["--e", "1"]
    assert json.loads(_read_output(workspace, run.find_step_run("mpi")[0], "result", "argv.json")) == ["--m", "2"]


def test_file_dataset_inputs_mount_and_download(workspace, write, tmp_path):
    write("src/d/x.txt", "x")
    write("steps/read.py", """
        import os, sys, json
        from azureml.core import Run
        run = Run.get_context()
        seen = {name: sorted(os.listdir(path)) for name, path in
                (("mounted", sys.argv[1]), ("downloaded", sys.argv[2]))}
        seen["downloaded_is_under_cwd"] = os.path.abspath(sys.argv[2]).startswith(os.getcwd())
        seen["named"] = os.environ["mounted"]
        out = os.environ["AZUREML_DATAREFERENCE_result"]
        os.makedirs(out, exist_ok=True)
        open(os.path.join(out, "seen.json"), "w").write(json.dumps(seen))
    """)
    blob = workspace.get_default_datastore()
    blob.upload(str(tmp_path / "src" / "d"), target_path="d", show_progress=False)
    dataset = Dataset.File.from_files((blob, "d"))
    with pytest.raises(Exception, match="Dataset validation failed: workspaceblobstore:nope has no files"):
        Dataset.File.from_files((blob, "nope"))
    mounted = dataset.as_named_input("mounted").as_mount()
    downloaded = dataset.as_named_input("downloaded").as_download()
    result = PipelineData("result")
    step = PythonScriptStep("read.py", name="read", source_directory=str(tmp_path / "steps"),
                            arguments=[mounted, downloaded], inputs=[mounted, downloaded],
                            outputs=[result])
    run = Experiment(workspace, "datasets").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    seen = json.loads(_read_output(workspace, run.find_step_run("read")[0], "result", "seen.json"))
    assert seen["mounted"] == ["x.txt"] and seen["downloaded"] == ["x.txt"]
    assert seen["downloaded_is_under_cwd"] is True  # a download is a private copy
    assert seen["named"] == str(_blob_root(workspace) / "d")


def test_download_input_and_upload_output_modes(workspace, write, tmp_path):
    write("src/d/x.txt", "from the datastore")
    write("steps/copy.py", """
        import os, sys
        src, dst = sys.argv[1:3]
        assert os.path.abspath(dst) == os.path.join(os.getcwd(), "staged"), dst  # upload: a local folder
        open(os.path.join(dst, "y.txt"), "w").write(open(os.path.join(src, "x.txt")).read().upper())
        open(os.path.join(src, "x.txt"), "w").write("a download is a copy: writing it is harmless")
    """)
    blob = workspace.get_default_datastore()
    blob.upload(str(tmp_path / "src" / "d"), target_path="d", show_progress=False)
    source = blob.path("d", data_reference_name="src").as_download()
    result = PipelineData("result", datastore=blob, output_mode="upload",
                          output_path_on_compute="staged")
    step = PythonScriptStep("copy.py", name="copy", source_directory=str(tmp_path / "steps"),
                            arguments=[source, result], inputs=[source], outputs=[result])
    run = Experiment(workspace, "modes").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _read_output(workspace, run.find_step_run("copy")[0], "result", "y.txt") == "FROM THE DATASTORE"
    assert (_blob_root(workspace) / "d" / "x.txt").read_text() == "from the datastore"


def test_experiment_runs_newest_first_and_step_files_download(workspace, write, tmp_path):
    write("steps/m.py", """
        import os
        os.makedirs("outputs", exist_ok=True)
        open("outputs/model.txt", "w").write("weights")
    """)
    step = PythonScriptStep("m.py", name="m", source_directory=str(tmp_path / "steps"))
    pipeline = Pipeline(workspace, [step])
    first = Experiment(workspace, "alpha").submit(pipeline, tags={"n": "1"})
    first.wait_for_completion(show_output=False)
    second = Experiment(workspace, "alpha").submit(pipeline, tags={"n": "2"})
    second.wait_for_completion(show_output=False)
    Experiment(workspace, "beta").submit(pipeline).wait_for_completion(show_output=False)
    assert [r.id for r in Experiment(workspace, "alpha").get_runs()] == [second.id, first.id]
    assert [r.id for r in Experiment(workspace, "alpha").get_runs(tags={"n": "1"})] == [first.id]
    assert [e.name for e in Experiment.list(workspace)] == ["beta", "alpha"]
    assert [e.name for e in Experiment.list(workspace, experiment_name="alpha")] == ["alpha"]

    step_run = next(first.get_steps())
    step_run.download_file("outputs/model.txt", str(tmp_path / "got"))
    assert (tmp_path / "got").read_text() == "weights"
    with pytest.raises(Exception, match=r"has no file 'outputs/nope.txt'; it has: .*outputs/model.txt"):
        step_run.download_file("outputs/nope.txt")
