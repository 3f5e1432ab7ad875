"""Modules as the SDK keeps them (versions with status, port definitions and their defaults,
ModuleStep's input and output binding) and PipelineDrafts (create, list, get, update, submit,
publish, clone, delete)."""
from __future__ import annotations

import json

import pytest

from runner.sdk import Experiment, Module, ModuleStep, Pipeline, PipelineData, PipelineParameter, PythonScriptStep
from runner.sdk.module import ModuleVersion, ModuleVersionDescriptor
from runner.sdk.module_ports import InputPortDef, OutputPortDef
from runner.sdk.pipeline import PublishedPipeline
from runner.sdk.pipeline_draft import PipelineDraft
from store.errors import NotFoundError

SCALE = """
    import os, sys
    src, dst = sys.argv[1:3]
    path = os.path.join(src, "n.txt")
    value = int(open(path).read()) * 10
    os.makedirs(dst, exist_ok=True)
    open(os.path.join(dst, "n.txt"), "w").write(str(value))
    open(os.path.join(dst, "how.txt"), "w").write("download" if os.path.abspath(src).startswith(os.getcwd()) else "mount")
"""


def _read(workspace, step_run, port, name):
    ref = step_run.get_output_data(port)
    return (workspace._local.layout.datastore_dir(ref.datastore_name) / ref.path_on_datastore / name).read_text()


@pytest.fixture
def scaler(workspace, write, tmp_path):
    write("mod/scale.py", SCALE)
    module = Module.create(workspace, "scaler", "times ten")
    source = InputPortDef("source", default_datastore_mode="download",
                          default_data_reference_name="workspaceblobstore", label="a number")
    scaled = OutputPortDef("scaled", default_datastore_name="workspaceblobstore", label="ten times it")
    version = module.publish_python_script("scale.py", "v1", inputs=[source], outputs=[scaled],
                                           source_directory=str(tmp_path / "mod"), version="1",
                                           category="math", arguments=[source, scaled])
    return module, version


def test_module_versions_have_the_sdks_status_and_fields(workspace, scaler):
    module, version = scaler
    assert isinstance(version, ModuleVersion)
    assert (version.version, version.status, version.description, version.category) == ("1", "Active", "v1", "math")
    assert version.module_id == module.id and version.module().name == "scaler"
    assert ModuleVersion.get(workspace, version.module_version_id).version == "1"
    assert version.interface["inputs"]["source"]["data_reference_name"] == "workspaceblobstore"
    assert version.interface["outputs"]["scaled"]["label"] == "ten times it"
    assert version.runconfig is None
    version.set_description("first")
    version.deprecate()
    assert (ModuleVersion.get(workspace, version.module_version_id).description, version.status) == \
        ("first", "Deprecated")
    version.disable()
    with pytest.raises(ValueError, match="Version 1 of module scaler is disabled"):
        ModuleStep(module_version=version, inputs_map={}, outputs_map={})
    version.enable()
    assert version.status == "Active"

    descriptors = Module.get_versions(workspace, "scaler")
    assert [(type(d), d.version, d.module_version_id) for d in descriptors] == \
        [(ModuleVersionDescriptor, "1", version.module_version_id)]
    module.set_name("scaler2")
    module.set_description("times ten, always")
    module.deprecate()
    again = Module.get(workspace, module.id)
    assert (again.name, again.description, again.status) == ("scaler2", "times ten, always", "Deprecated")
    module.enable()
    with pytest.raises(Exception, match="provided version is not part of the module"):
        module.set_default_version("7")
    module.set_default_version("1")
    assert Module.get(workspace, name="scaler2").default_version == "1"
    with pytest.raises(ValueError, match=r"Step \[s\]: script not found at: "):
        Module.process_source_directory("s", "/nonexistent", "a.py")


def test_module_step_binds_ports_and_applies_port_defaults(workspace, write, tmp_path, scaler):
    module, _ = scaler
    write("steps/seed.py", "import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\n"
                           "open(os.path.join(sys.argv[1], 'n.txt'), 'w').write('4')\n")
    write("steps/show.py", "import os, sys\nos.makedirs(sys.argv[2], exist_ok=True)\n"
                           "open(os.path.join(sys.argv[2], 'seen.txt'), 'w').write(open(os.path.join(sys.argv[1], 'n.txt')).read())\n")
    seeded = PipelineData("seeded")
    result = PipelineData("result_data")  # the SDK binds it under the module's port name
    shown = PipelineData("shown")
    seed = PythonScriptStep("seed.py", name="seed", source_directory=str(tmp_path / "steps"),
                            arguments=[seeded], outputs=[seeded])
    scale = ModuleStep(module, version="1", inputs_map={"source": seeded},
                       outputs_map={"scaled": result}, name="scale")
    show = PythonScriptStep("show.py", name="show", source_directory=str(tmp_path / "steps"),
                            arguments=[result, shown], inputs=[result], outputs=[shown])
    run = Experiment(workspace, "modules").submit(Pipeline(workspace, [show]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (scale_run,) = run.find_step_run("scale")
    assert _read(workspace, scale_run, "scaled", "n.txt") == "40"
    assert _read(workspace, scale_run, "scaled", "how.txt") == "download"  # the port's default mode
    assert _read(workspace, run.find_step_run("show")[0], "shown", "seen.txt") == "40"
    assert scale_run.get_output_data("scaled").path_on_datastore == f"azureml/{scale_run.id}/scaled"

    with pytest.raises(ValueError, match="ModuleStep \\[scale\\]: input source of module scaler is "
                                         "not optional; map it in inputs_map"):
        ModuleStep(module, version="1", outputs_map={"scaled": PipelineData("x")}, name="scale")
    with pytest.raises(ValueError, match="Exactly one of module or module_version is required but both are provided"):
        ModuleStep(module, module_version=module.resolve("1"))


def _draftable(workspace, write, tmp_path):
    write("steps/echo.py", "import os, sys\nos.makedirs(sys.argv[2], exist_ok=True)\n"
                           "open(os.path.join(sys.argv[2], 'v.txt'), 'w').write(sys.argv[1])\n")
    value = PipelineParameter("value", default_value=1)
    out = PipelineData("out")
    step = PythonScriptStep("echo.py", name="echo", source_directory=str(tmp_path / "steps"),
                            arguments=[value, out], outputs=[out])
    return Pipeline(workspace, [step])


def test_a_draft_is_stored_changed_submitted_and_published(workspace, write, tmp_path):
    pipeline = _draftable(workspace, write, tmp_path)
    with pytest.raises(ValueError, match="experiment_name can not be None"):
        PipelineDraft.create(workspace, pipeline, name="d")
    with pytest.raises(Exception, match="Pipeline parameter with name nope does not exist"):
        PipelineDraft.create(workspace, pipeline, name="d", experiment_name="e",
                             pipeline_parameters={"nope": 1})
    draft = PipelineDraft.create(workspace, pipeline, name="echo_draft", experiment_name="drafts",
                                 pipeline_parameters={"value": 2}, tags={"team": "ml"})
    assert [d.id for d in PipelineDraft.list(workspace, tags={"team": "ml"})] == [draft.id]
    assert PipelineDraft.list(workspace, tags={"team": "other"}) == []
    draft.update(description="echoes", pipeline_parameters={"value": 3}, tags={"team": "ml", "v": 2})
    got = PipelineDraft.get(workspace, draft.id)
    assert (got.name, got.description, got.tags) == ("echo_draft", "echoes", {"team": "ml", "v": "2"})
    assert got.get_graph().steps[0].name == "echo"

    run = got.submit_run()
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert (run.experiment.name, run.get_details()["parameters"]) == ("drafts", {"value": 3})
    assert _read(workspace, run.find_step_run("echo")[0], "out", "v.txt") == "3"
    assert PipelineDraft.get(workspace, draft.id).last_submitted_pipeline_run_id == run.id

    published = got.publish()
    assert isinstance(published, PublishedPipeline) and published.name == "echo_draft"
    saved = got.save(str(tmp_path))
    assert json.loads(open(saved).read())["steps"][0]["name"] == "echo"

    from_run = PipelineDraft.create(workspace, run)
    assert (from_run.parent_pipeline_run_id, from_run.parent_step_run_ids) == \
        (run.id, [s.id for s in run.get_steps()])
    from_published = PipelineDraft.create(workspace, published)
    assert from_published.parent_pipeline_id == published.id
    clone = PipelineDraft.create(workspace, got)
    assert (clone.parent_pipeline_draft_id, clone.name, clone.tags) == (got.id, "echo_draft", got.tags)
    with pytest.raises(ValueError, match="pipeline should be of type Pipeline, PublishedPipeline"):
        PipelineDraft.create(workspace, "a script")
    clone.delete()
    with pytest.raises(NotFoundError):
        PipelineDraft.get(workspace, clone.id)
