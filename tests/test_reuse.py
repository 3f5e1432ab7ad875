"""Step reuse: which steps rerun after each kind of change, and the reason each one gives."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from runner.sdk import (Environment, Experiment, Pipeline, PipelineData, PipelineParameter,
                        PythonScriptStep, RunConfiguration)
from store.settings import write_setting
from tests.conftest import amlocal

PREP = """
    import os, sys
    from util import transform
    src, dst = sys.argv[1:3]
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        text = open(os.path.join(src, name)).read()
        open(os.path.join(dst, name), "w").write(transform(text))
    print("prep ran")
"""
UTIL = "def transform(text):\n    return text.upper()\n"
TRAIN = """
    import os, sys
    from azureml.core import Run
    data, out, lr, epochs = sys.argv[1:5]
    rows = sum(len(open(os.path.join(data, n)).read().split()) for n in sorted(os.listdir(data)))
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "model.txt"), "w").write(f"{rows} {lr} {epochs}")
    run = Run.get_context()
    run.log("rows", rows); run.log("rows", rows + 1); run.parent.log("model_rows", rows)
    os.makedirs("outputs", exist_ok=True); open("outputs/card.txt", "w").write("model card")
    print("train ran")
"""
REPORT = """
    import os, sys
    print("report ran:", open(os.path.join(sys.argv[1], "model.txt")).read())
"""


@pytest.fixture
def project(workspace, write, tmp_path):
    write("prep/prep.py", PREP)
    write("prep/util.py", UTIL)
    write("prep/notes.md", "notes\n")
    write("prep/.amlignore", "*.md\n")
    write("train/train.py", TRAIN)
    write("report/report.py", REPORT)
    write("data/raw/a.txt", "one two\n")
    write("data/raw/b.txt", "three\n")
    workspace.get_default_datastore().upload(str(tmp_path / "data" / "raw"), "raw", show_progress=False)
    return tmp_path


def build(ws, root, *, epochs=3, train_name="train", train_reuse=True, train_env=None):
    ds = ws.get_default_datastore()
    raw = ds.path("raw", data_reference_name="raw")
    prepared, model = PipelineData("prepared", datastore=ds), PipelineData("model", datastore=ds)
    lr = PipelineParameter("lr", default_value=0.1)
    config = RunConfiguration()
    if train_env is not None:
        config.environment = train_env
    prep = PythonScriptStep("prep.py", name="prep", source_directory=str(root / "prep"),
                            arguments=[raw, prepared], inputs=[raw], outputs=[prepared])
    train = PythonScriptStep("train.py", name=train_name, source_directory=str(root / "train"),
                             arguments=[prepared, model, lr, epochs], inputs=[prepared],
                             outputs=[model], allow_reuse=train_reuse, runconfig=config)
    report = PythonScriptStep("report.py", name="report", source_directory=str(root / "report"),
                              arguments=[model], inputs=[model])
    return Pipeline(ws, [prep, train, report])


def submit(ws, pipeline, **kwargs):
    run = Experiment(ws, "reuse").submit(pipeline, **kwargs)
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def decisions(run) -> dict[str, tuple[str, str]]:
    return {s.name: (s._record().decision, s._record().reason) for s in run.get_steps()}


def test_a_first_run_runs_everything_and_an_identical_rerun_reuses_everything(workspace, project):
    first = submit(workspace, build(workspace, project))
    assert decisions(first) == {name: ("run", f"rerun: no earlier run of step {name}")
                                for name in ("prep", "train", "report")}
    second = submit(workspace, build(workspace, project))
    # decided at submit, as the SDK does: no runner process was needed
    assert second._record().runner_pid is None
    assert not (workspace._local.layout.pipeline_run_dir(second.id) / "runner.log").exists()
    for step in second.get_steps():
        original = first.find_step_run(step.name)[0]
        assert decisions(second)[step.name] == ("reused", f"reused from {first.id[:8]}/{step.name}")
        assert step.get_status() == "Finished" and step.get_stdout_log() == ""  # nothing executed
        props = step.get_properties()
        assert props["azureml.reusedrunid"] == original.id
        assert props["azureml.reusedpipeline"] == first.id
        assert props["azureml.reusednodeid"] == original._record().node_id
    # a reused step reads like the step run it stands in for: its metrics (history too), its
    # artifacts, and what it logged to its pipeline run, so runs compare on equal terms
    first_train, second_train = first.find_step_run("train")[0], second.find_step_run("train")[0]
    assert second_train.get_metrics() == first_train.get_metrics() == {"rows": [3, 4]}
    assert second.get_metrics() == first.get_metrics() == {"model_rows": 3}
    assert "outputs/card.txt" in second_train.get_file_names()
    # a run finished at submit starts and ends at the same instant, never before it starts
    assert second._record().end_time >= second._record().start_time
    # a reused step hands the earlier outputs downstream
    assert (second.find_step_run("train")[0].get_output_data("model").path_on_datastore ==
            first.find_step_run("train")[0].get_output_data("model").path_on_datastore)


def _edit(root, rel, text):
    (root / rel).write_text(textwrap.dedent(text))


def _remove_output(ws, run, step, port):
    ref = run.find_step_run(step)[0].get_output_data(port)
    shutil.rmtree(ws._local.layout.datastore_dir("workspaceblobstore") / ref.path_on_datastore)


def _modify_output(ws, run, step, port):
    ref = run.find_step_run(step)[0].get_output_data(port)
    folder = ws._local.layout.datastore_dir("workspaceblobstore") / ref.path_on_datastore
    (folder / "a.txt").write_text("TAMPERED\n")


def _env_with_variable():
    env = Environment("train-env")
    env.environment_variables = {"MODE": "fast"}
    return env


R, U = "run", "reused"
# change → {step: (decision, what its reason says)}; "same" = reused from the first run
CASES = {
    "edit one step's script (a comment: same output)": (
        lambda ws, root, first: _edit(root, "train/train.py", textwrap.dedent(TRAIN) + "# a comment\n"),
        {}, {"prep": (U, "reused from"), "train": (R, "rerun: train.py changed"),
             "report": (U, "reused from")}),
    "edit a helper module of a step": (
        lambda ws, root, first: _edit(root, "prep/util.py", "def transform(text):\n    return text * 2\n"),
        {}, {"prep": (R, "rerun: util.py changed"), "train": (R, "rerun: upstream prep produced new output"),
             "report": (R, "rerun: upstream train produced new output")}),
    "edit a file matched by .amlignore": (
        lambda ws, root, first: _edit(root, "prep/notes.md", "other notes\n"),
        {}, {"prep": (U, "reused from"), "train": (U, "reused from"), "report": (U, "reused from")}),
    "change a pipeline parameter": (
        lambda ws, root, first: None, {"pipeline_parameters": {"lr": 0.2}},
        {"prep": (U, "reused from"), "train": (R, "rerun: parameter lr 0.1 → 0.2"),
         "report": (R, "rerun: upstream train produced new output")}),
    "change a literal argument": (
        lambda ws, root, first: None, {"build": {"epochs": 5}},
        {"prep": (U, "reused from"), "train": (R, "rerun: arguments changed"),
         "report": (R, "rerun: upstream train produced new output")}),
    "change a file in a datastore input": (
        lambda ws, root, first: _edit(ws._local.layout.datastore_dir("workspaceblobstore"),
                                      "raw/b.txt", "three four\n"),
        {}, {"prep": (R, "rerun: input raw changed (1 file)"),
             "train": (R, "rerun: upstream prep produced new output"),
             "report": (R, "rerun: upstream train produced new output")}),
    "allow_reuse=False": (
        lambda ws, root, first: None, {"build": {"train_reuse": False}},
        {"prep": (U, "reused from"), "train": (R, "rerun: allow_reuse=False"),
         "report": (U, "reused from")}),
    "regenerate_outputs=True": (
        lambda ws, root, first: None, {"regenerate_outputs": True},
        {"prep": (R, "rerun: regenerate_outputs=True"), "train": (R, "rerun: regenerate_outputs=True"),
         "report": (R, "rerun: regenerate_outputs=True")}),
    "delete a reused run's output": (
        lambda ws, root, first: _remove_output(ws, first, "prep", "prepared"),
        {}, {"prep": (R, "rerun: output prepared of {first}/prep is gone"),
             "train": (U, "reused from"), "report": (U, "reused from")}),
    "modify a reused run's output": (
        lambda ws, root, first: _modify_output(ws, first, "prep", "prepared"),
        {}, {"prep": (R, "rerun: output prepared of {first}/prep was modified after it finished"),
             "train": (U, "reused from"), "report": (U, "reused from")}),
    "rename a step": (
        lambda ws, root, first: None, {"build": {"train_name": "fit"}},
        {"prep": (U, "reused from"), "fit": (R, "rerun: no earlier run of step fit"),
         "report": (U, "reused from")}),
    "change the environment": (
        lambda ws, root, first: None, {"build": {"train_env": _env_with_variable()}},
        {"prep": (U, "reused from"), "train": (R, "rerun: environment changed"),
         "report": (U, "reused from")}),
}


@pytest.mark.parametrize("change", list(CASES))
def test_each_change_reruns_exactly_what_it_affects_and_says_why(workspace, project, change):
    apply, options, expected = CASES[change]
    first = submit(workspace, build(workspace, project))
    apply(workspace, project, first)
    options = dict(options)
    pipeline = build(workspace, project, **options.pop("build", {}))
    second = submit(workspace, pipeline, **options)
    got = decisions(second)
    assert set(got) == set(expected)
    for step, (decision, reason) in expected.items():
        reason = reason.format(first=first.id[:8])
        assert got[step][0] == decision, (step, got[step])
        assert got[step][1].startswith(reason), (step, got[step])
        ran = second.find_step_run(step)[0].get_stdout_log() != ""
        assert ran == (decision == R), (step, "executed" if ran else "did not execute")
        phases = dict(second.find_step_run(step)[0]._record().phases)
        assert not phases or "ended" in phases  # every phase a step went through has an end


def test_amlocal_why_lists_what_changed_field_by_field(workspace, project):
    first = submit(workspace, build(workspace, project))
    _edit(project, "train/train.py", textwrap.dedent(TRAIN) + "# tuned\n")
    submit(workspace, build(workspace, project, epochs=4), pipeline_parameters={"lr": 0.3})
    env = {"AMLOCAL_HOME": str(workspace._local.layout.root)}
    done = amlocal("why", "latest", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"prep: reused from {first.id[:8]}/prep"
    assert lines[1].startswith("train: rerun: train.py changed; parameter lr 0.1 → 0.3; arguments changed")
    assert lines[2].startswith(f"  compared with {first.id[:8]}/train (")
    assert "    the source directory: 1 file changed: train.py" in lines
    assert "    parameter lr 0.1 → 0.3" in lines
    assert "    arguments [<input prepared> <output model> <parameter lr> 3] → " \
           "[<input prepared> <output model> <parameter lr> 4]" in lines


def test_azure_mode_reuses_despite_changed_datastore_data_as_azure_does(workspace, project):
    write_setting(workspace._local.layout, "reuse", "azure")
    first = submit(workspace, build(workspace, project))
    _edit(workspace._local.layout.datastore_dir("workspaceblobstore"), "raw/b.txt", "changed\n")
    second = submit(workspace, build(workspace, project))
    assert decisions(second)["prep"] == ("reused", f"reused from {first.id[:8]}/prep")


PIPELINE_SCRIPT = """
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from azureml.core import Workspace
    from test_reuse import build, submit
    ws = Workspace.from_config()
    submit(ws, build(ws, Path({root!r})))
"""


def test_two_runs_submitted_at_once_both_finish_and_a_third_reuses(workspace, project, write):
    from tests.conftest import AMLOCAL, REPO
    write("pipeline.py", PIPELINE_SCRIPT.format(tests=str(REPO / "tests"), root=str(project)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    both = [subprocess.Popen([*AMLOCAL, "run", str(project / "pipeline.py")], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0], outputs
    runs = list(Experiment(workspace, "reuse").get_runs())
    assert [r.get_status() for r in runs] == ["Finished", "Finished"]
    third = submit(workspace, build(workspace, project))
    assert all(decision == "reused" for decision, _ in decisions(third).values())
    for run in runs:  # whichever ran a step recorded its outputs' content, intact
        for step in run.get_steps():
            for out in step._record().outputs.values():
                assert len(out.content_hash) == 64


def test_reuse_crosses_experiments_and_published_pipelines(workspace, project):
    from runner.sdk import PublishedPipeline
    first = submit(workspace, build(workspace, project))
    other = Experiment(workspace, "another-experiment").submit(build(workspace, project))
    assert other.wait_for_completion(show_output=False) == "Finished"
    assert all(d == "reused" for d, _ in decisions(other).values())
    published = build(workspace, project).publish("nightly")
    from_published = PublishedPipeline.get(workspace, published.id).submit(workspace, "nightly-runs")
    assert from_published.wait_for_completion(show_output=False) == "Finished"
    assert decisions(from_published)["train"] == ("reused", f"reused from {first.id[:8]}/train")


def test_amlocal_why_names_the_environments_in_words(workspace, project):
    submit(workspace, build(workspace, project))
    submit(workspace, build(workspace, project, train_env=_env_with_variable()))
    env = {"AMLOCAL_HOME": str(workspace._local.layout.root)}
    done = amlocal("why", "latest", "train", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    python = f"{os.path.basename(sys.executable)} {sys.version.split()[0]}"
    assert (f"    environment default-environment: local {python} → "
            f"train-env: local {python} with environment_variables") in done.stdout.splitlines()
