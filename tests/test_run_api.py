"""The Run API around submitting: what a step reads back from its own run, and what pipeline
runs, step runs, experiments and published pipelines answer as the SDK does."""
from __future__ import annotations

import json
import os
import zipfile

import pytest

from runner.sdk import Experiment, Pipeline, PipelineData, PythonScriptStep
from runner.sdk.runs import PipelineRun, StepRun
from runner.step_runtime import Run
from runner.step_runtime.exceptions import UserErrorException

READ_BACK = """
    import json, os, sys
    from azureml.core import Run
    run = Run.get_context()
    run.log("loss", 0.5)
    run.log("loss", 0.25)
    run.log_list("sizes", [1, 2])
    run.tag("stage", "train")
    run.add_properties({"owner": "me"})
    open("note.txt", "w").write("kept")
    run.upload_file("extra/note.txt", "note.txt")
    run.download_file("extra/note.txt", "copy.txt")
    seen = {"metrics": run.get_metrics(), "loss": run.get_metrics("loss"), "tags": run.get_tags(),
            "properties": run.properties, "files": run.get_file_names(),
            "copy": open("copy.txt").read(), "name": run.name, "display_name": run.display_name,
            "type": run.type, "parent_type": run.parent.type, "status": run.get_detailed_status(),
            "identity": run.identity, "portal": run.get_portal_url(),
            "details": {k: run.get_details()[k] for k in ("runId", "status", "tags")},
            "same": Run.get_submitted_run() is run}
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "seen.json"), "w").write(json.dumps(seen))
"""


def _blob(workspace):
    return workspace._local.layout.datastore_dir("workspaceblobstore")


def _one_step_run(workspace, write, tmp_path, code=READ_BACK, name="reader"):
    write("steps/s.py", code)
    out = PipelineData("out", pipeline_output_name="seen")
    step = PythonScriptStep("s.py", name=name, source_directory=str(tmp_path / "steps"),
                            arguments=[out], outputs=[out])
    run = Experiment(workspace, "api").submit(Pipeline(workspace, [step], description="api_demo"))
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def test_a_step_reads_back_what_it_recorded_on_its_run(workspace, write, tmp_path):
    run = _one_step_run(workspace, write, tmp_path)
    (step,) = run.get_steps()
    ref = step.get_output_data("out")
    seen = json.loads((_blob(workspace) / ref.path_on_datastore / "seen.json").read_text())
    assert seen["metrics"] == {"loss": [0.5, 0.25], "sizes": [1, 2]}
    assert seen["loss"] == {"loss": [0.5, 0.25]}
    assert (seen["tags"], seen["properties"]) == ({"stage": "train"}, {"owner": "me"})
    assert (seen["files"], seen["copy"]) == (["extra/note.txt"], "kept")
    assert (seen["name"], seen["display_name"], seen["type"], seen["parent_type"]) == \
        ("reader", "reader", "azureml.StepRun", "azureml.PipelineRun")
    assert seen["status"] == {"status": "Running", "details": None}
    assert seen["identity"] == f"Run#{step.id}"
    assert seen["portal"] == (f"amlocal://portal/runs/{step.id}?wsid=/subscriptions/"
                              f"{workspace.subscription_id}/resourcegroups/{workspace.resource_group}"
                              f"/workspaces/{workspace.name}")
    assert seen["details"] == {"runId": step.id, "status": "Running", "tags": {"stage": "train"}}
    assert seen["same"] is True
    # the runner stored the same: the SDK's reads on the client side agree
    assert step.get_metrics() == {"loss": [0.5, 0.25], "sizes": [1, 2]}


def test_pipeline_and_step_runs_answer_the_sdks_questions(workspace, write, tmp_path):
    run = _one_step_run(workspace, write, tmp_path)
    (step,) = run.get_steps()
    assert (run.type, run.name, run.display_name, run.description) == \
        ("azureml.PipelineRun", "api_demo", "api_demo", "api_demo")
    assert (step.type, step.display_name, run.identity) == ("azureml.StepRun", "reader", f"PipelineRun#{run.id}")
    assert run.get_portal_url().startswith(f"amlocal://portal/runs/{run.id}?wsid=/subscriptions/")
    assert Run.get_docs_url() == ("https://docs.microsoft.com/en-us/python/api/azureml-core/"
                                  "azureml.core.run.Run?view=azure-ml-py")
    assert run.get_detailed_status() == {"status": "Finished", "details": None}
    assert isinstance(Run.get(workspace, step.id), StepRun)
    assert [r.id for r in Run.list(Experiment(workspace, "api"), status="Finished")] == [run.id]

    with_logs = step.get_details_with_logs()
    assert with_logs["logFiles"]["azureml-logs/stdout.txt"] == ""
    written = step.get_all_logs(str(tmp_path / "logs"))
    assert sorted(os.path.relpath(p, tmp_path / "logs") for p in written) == \
        ["azureml-logs/stderr.txt", "azureml-logs/stdout.txt"]
    copied = step.download_files(prefix="extra", output_directory=str(tmp_path / "dl"), append_prefix=False)
    assert copied == [str(tmp_path / "dl" / "note.txt")]

    output = step.get_output("out")
    assert (output.name, output.get_port_data_reference().path_on_datastore) == \
        ("out", f"azureml/{step.id}/out")
    assert run.get_pipeline_output("seen").path_on_datastore == f"azureml/{step.id}/out"
    with pytest.raises(UserErrorException, match="has no pipeline output 'nope' \\(declared: seen\\)"):
        run.get_pipeline_output("nope")

    saved = run.save(str(tmp_path))
    assert json.loads(open(saved).read())["steps"][0]["name"] == "reader"
    archive = step.restore_snapshot(path=str(tmp_path / "snap.zip"))
    assert zipfile.ZipFile(archive).namelist() == ["s.py"]
    assert step.get_snapshot_id() == step._record().snapshot_id and step.get_snapshot_id()
    assert step.get_environment().name == "default-environment"
    assert step.get_children() == []

    run.set_tags({"a": "1", "b": "2"})
    run.remove_tags(["a"])
    step.tag("c", "3")
    step.remove_tags(["c", "missing"])
    assert (run.get_tags(), step.get_tags()) == ({"b": "2"}, {"stage": "train"})


def test_a_published_pipelines_runs_are_found_and_it_saves_and_links(workspace, write, tmp_path):
    write("steps/s.py", "print('s')\n")
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"))
    published = Pipeline(workspace, [step]).publish("nightly")
    runs = [published.submit(workspace, "nightly-runs") for _ in range(2)]
    for run in runs:
        run.wait_for_completion(show_output=False)
    found = PipelineRun.get_pipeline_runs(workspace, published.id)
    assert sorted(r.id for r in found) == sorted(r.id for r in runs)
    assert all(isinstance(r, PipelineRun) for r in found)
    assert published.get_portal_url().startswith(f"amlocal://portal/pipelines/{published.id}?wsid=")
    assert published.PIPELINE_PATH == "/pipelines/{0}" and published.portal_url == "amlocal://portal"
    saved = published.save(str(tmp_path))
    assert saved == str(tmp_path / "nightly.yml")
    assert [s["name"] for s in json.loads(open(saved).read())["steps"]] == ["s"]


def test_experiment_tags_links_and_identity(workspace):
    experiment = Experiment(workspace, "tagged")
    experiment.tag("team", "vision")
    experiment.set_tags({"stage": "dev", "n": 3})
    experiment.remove_tags(["stage"])
    assert Experiment(workspace, "tagged").tags == {"team": "vision", "n": "3"}
    assert experiment.identity == "Experiment#tagged"
    assert experiment.get_portal_url().startswith(f"amlocal://portal/experiments/id/{experiment.id}?wsid=")
    assert (experiment.EXPERIMENT_NAME_PATH, experiment.TID_FMT, experiment.DELIM) == \
        ("/experiments/{0}", "&tid={0}", "#")
    assert Experiment.get_docs_url().endswith("azureml-core/azureml.core.experiment.Experiment?view=azure-ml-py")
    assert experiment.archived_time is None


def test_refresh_reads_the_experiment_from_the_workspace(workspace):
    Experiment(workspace, "fresh").refresh()
    assert [e.name for e in Experiment.list(workspace)] == ["fresh"]
