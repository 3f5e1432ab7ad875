"""Mistakes a user makes, and exactly what they see (SDK exception types and messages)."""
from __future__ import annotations

import pytest

from runner.sdk import (DataReference, Experiment, Pipeline, PipelineData, PipelineParameter,
                        PythonScriptStep)
from store.errors import UnsafePathError


@pytest.fixture
def steps_dir(write, tmp_path):
    write("steps/a.py", "print('a')\n")
    return str(tmp_path / "steps")


def test_script_not_found_is_raised_by_pipeline(workspace, steps_dir):
    step = PythonScriptStep("missing.py", source_directory=steps_dir)
    with pytest.raises(ValueError, match=r"Step \[missing.py\]: script not found at: .*missing.py"):
        Pipeline(workspace, [step])


def test_output_produced_twice(workspace, steps_dir):
    d = PipelineData("d")
    first = PythonScriptStep("a.py", name="A", source_directory=steps_dir, outputs=[d])
    PythonScriptStep("a.py", name="B", source_directory=steps_dir, outputs=[d])
    with pytest.raises(ValueError, match="Step output d can not be used as an output for step A, "
                                         "as it is already an output of step B."):
        Pipeline(workspace, [first])


def test_input_with_no_producer(workspace, steps_dir):
    d = PipelineData("d")
    c = PythonScriptStep("a.py", name="c", source_directory=steps_dir, inputs=[d])
    with pytest.raises(ValueError, match="Input d on step c is not connected to any previous step"):
        Pipeline(workspace, [c])


def test_data_in_arguments_but_not_in_inputs(workspace, steps_dir):
    d = PipelineData("d")
    with pytest.raises(ValueError, match="appears in arguments list but is not in the input/output lists"):
        PythonScriptStep("a.py", source_directory=steps_dir, arguments=[d])


def test_unknown_parameter_and_wrong_type_at_submit(workspace, steps_dir):
    lr = PipelineParameter("lr", 0.1)
    step = PythonScriptStep("a.py", source_directory=steps_dir, arguments=[lr])
    pipeline = Pipeline(workspace, [step])
    with pytest.raises(Exception, match="Pipeline parameter with name epochs does not exist"):
        Experiment(workspace, "e").submit(pipeline, pipeline_parameters={"epochs": 3})
    with pytest.raises(Exception, match="Pipeline parameter lr expects a value of type float"):
        Experiment(workspace, "e").submit(pipeline, pipeline_parameters={"lr": "fast"})


def test_parameter_with_two_defaults(workspace, steps_dir):
    a = PythonScriptStep("a.py", name="a", source_directory=steps_dir, arguments=[PipelineParameter("lr", 1)])
    b = PythonScriptStep("a.py", name="b", source_directory=steps_dir, arguments=[PipelineParameter("lr", 2)])
    with pytest.raises(Exception, match="same name lr but different default values 1, 2"):
        Pipeline(workspace, [a, b])


def test_cycle_builds_but_is_refused_at_submit(workspace, steps_dir):
    a = PythonScriptStep("a.py", name="a", source_directory=steps_dir)
    b = PythonScriptStep("a.py", name="b", source_directory=steps_dir)
    a.run_after(b)
    b.run_after(a)
    pipeline = Pipeline(workspace, [a, b])
    assert any(e.startswith("Cycle detected including node a(") for e in pipeline.validate())
    with pytest.raises(ValueError, match="The pipeline graph has a cycle"):
        Experiment(workspace, "e").submit(pipeline)
    assert workspace._local.conn.execute("SELECT count(*) FROM pipeline_run").fetchone()[0] == 0


def test_unknown_pipeline_kwarg(workspace, steps_dir):
    step = PythonScriptStep("a.py", source_directory=steps_dir)
    with pytest.raises(ValueError, match="parameter colour is not recognized for Pipeline"):
        Pipeline(workspace, [step], colour="blue")


@pytest.mark.parametrize("bad", ["../outside", "a/../../outside", "/../outside", "./../outside",
                                 "C:/x"])
def test_paths_may_not_leave_a_datastore(workspace, tmp_path, bad):
    (tmp_path / "f.txt").write_text("x")
    ds = workspace.get_default_datastore()
    with pytest.raises(UnsafePathError):
        ds.upload_files([str(tmp_path / "f.txt")], target_path=bad, show_progress=False)
    with pytest.raises(UnsafePathError):
        DataReference(ds, path_on_datastore=bad)
    assert not (workspace._local.layout.datastores_dir / "outside").exists()
    assert not (workspace._local.layout.root / "outside").exists()


def test_output_names_cannot_climb(workspace):
    with pytest.raises(ValueError):
        PipelineData("x", output_name="../x")


def test_upload_files_skips_existing_unless_overwrite(workspace, tmp_path, capsys):
    f = tmp_path / "f.txt"
    f.write_text("one")
    ds = workspace.get_default_datastore()
    ref = ds.upload_files([str(f)], target_path="t")
    assert ref.path_on_datastore == "t" and len(ref.data_reference_name) == 32
    f.write_text("two")
    ds.upload_files([str(f)], target_path="t")
    assert "Target already exists. Skipping upload for t/f.txt" in capsys.readouterr().out
    stored = workspace._local.layout.datastore_dir("workspaceblobstore") / "t" / "f.txt"
    assert stored.read_text() == "one"
    ds.upload_files([str(f)], target_path="t", overwrite=True, show_progress=False)
    assert stored.read_text() == "two"


def test_credentials_are_never_stored(workspace):
    from runner.sdk import Datastore
    Datastore.register_azure_blob_container(workspace, "secretstore", "c", "acct",
                                            account_key="SUPER-SECRET-KEY")
    dump = "\n".join(workspace._local.conn.iterdump())
    assert "SUPER-SECRET-KEY" not in dump
    assert Datastore(workspace, "secretstore").datastore_type == "AzureBlob"


def test_a_source_folder_gone_before_submit_is_one_error_and_the_run_says_why(workspace, steps_dir):
    """The run is recorded before its sources are snapshotted: it ends Failed with the reason
    (not NotStarted, waiting to be found lost)."""
    import shutil

    from runner.errors import RunnerError
    from store.runs import list_pipeline_runs
    step = PythonScriptStep("a.py", name="a", source_directory=steps_dir)
    pipeline = Pipeline(workspace, [step])
    shutil.rmtree(steps_dir)
    with pytest.raises(RunnerError) as refused:
        Experiment(workspace, "gone").submit(pipeline)
    assert str(refused.value).startswith("step a: source directory ")
    assert str(refused.value).endswith(" does not exist")
    (run,) = list_pipeline_runs(workspace._local.conn)
    assert (run.status, run.error) == ("Failed", str(refused.value))
