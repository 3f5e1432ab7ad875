"""Modules, a command step and a pipeline draft: a v1 pipeline in the style of Microsoft's
notebooks on reusable modules (aml-pipelines-how-to-use-modulestep) and pipeline drafts.

    amlocal run sample_projects/v1_modules_and_drafts/pipeline.py

A published Module ("scale") runs through a ModuleStep whose ports are bound with inputs_map
and outputs_map; a CommandStep runs `python summarize.py …` with data and a parameter in its
command list; a later step reads the command's OutputPortBinding through an InputPortBinding.
The pipeline is saved as a PipelineDraft, changed, submitted from the draft and published, and
the report is downloaded from the step run's output.
"""
import os
import tempfile

import azureml.core
from azureml.core import Environment, Workspace
from azureml.core.runconfig import DockerConfiguration, RunConfiguration
from azureml.data.data_reference import DataReference
from azureml.pipeline.core import (InputPortBinding, Module, OutputPortBinding, Pipeline,
                                   PipelineData, PipelineDraft, PipelineParameter)
from azureml.pipeline.core.graph import InputPortDef, OutputPortDef
from azureml.pipeline.steps import CommandStep, ModuleStep, PythonScriptStep

print("Azure ML SDK version:", azureml.core.VERSION)
here = os.path.dirname(os.path.abspath(__file__))
ws = Workspace.from_config()
datastore = ws.get_default_datastore()

# ---- generated input: the numbers 1..20, uploaded to the default datastore
folder = tempfile.mkdtemp()
with open(os.path.join(folder, "numbers.txt"), "w") as fh:
    fh.write("".join(f"{i}\n" for i in range(1, 21)))
datastore.upload_files([os.path.join(folder, "numbers.txt")], target_path="modules_sample",
                       overwrite=True, show_progress=False)
numbers = DataReference(datastore, data_reference_name="numbers", path_on_datastore="modules_sample")

# ---- the environment, from a conda specification, and Docker settings of the run
env = Environment.from_conda_specification("numbers-env", os.path.join(here, "environment.yml"))
run_config = RunConfiguration()
run_config.environment = env
run_config.docker = DockerConfiguration(use_docker=True, shm_size="1g")

# ---- a module with typed ports, published once, used by version
module = Module.create(ws, name="scale", description="multiply numbers")
numbers_in = InputPortDef(name="numbers", default_datastore_mode="download",
                          default_data_reference_name=datastore.name, label="numbers to scale")
scaled_out = OutputPortDef(name="scaled", default_datastore_name=datastore.name,
                           default_datastore_mode="mount", label="scaled numbers")
if not module.module_version_list():
    module.publish_python_script("scale.py", "times three", inputs=[numbers_in],
                                 outputs=[scaled_out], version="1", is_default=True,
                                 source_directory=os.path.join(here, "module_src"),
                                 arguments=["--numbers", numbers_in, "--scaled", scaled_out,
                                            "--factor", 3])
print("module versions:", [v.version for v in module.module_version_list()])

scaled = PipelineData("scaled_numbers", datastore=datastore)
scale_step = ModuleStep(module=module, version="1", inputs_map={"numbers": numbers},
                        outputs_map={"scaled": scaled}, runconfig=run_config, name="scale")

top_n = PipelineParameter(name="top_n", default_value=3)
summary = OutputPortBinding("summary", datastore=datastore)
summarize_step = CommandStep(name="summarize",
                             command=["python summarize.py --input", scaled, "--top", top_n,
                                      "--output", summary],
                             inputs=[scaled], outputs=[summary],
                             source_directory=os.path.join(here, "steps"), runconfig=run_config)
report = PipelineData("report", datastore=datastore)
summary_in = InputPortBinding("summary_in", bind_object=summary)
report_step = PythonScriptStep(name="report", script_name="report.py",
                               source_directory=os.path.join(here, "steps"),
                               arguments=[summary_in, report], inputs=[summary_in],
                               outputs=[report], runconfig=run_config)
pipeline = Pipeline(ws, steps=[report_step])

# ---- draft it, change it, submit it from the draft, publish it
draft = PipelineDraft.create(ws, pipeline, name="numbers_draft", experiment_name="numbers",
                             pipeline_parameters={"top_n": 5}, tags={"team": "ml"})
draft.update(description="scale, summarize, report")
print("drafts:", [(d.name, d.description) for d in PipelineDraft.list(ws, tags={"team": "ml"})])
run = draft.submit_run()
run.wait_for_completion(show_output=False)
print("run from draft:", run.get_status(), "parameters", run.get_details()["parameters"])
print("draft's last run is this one:", PipelineDraft.get(ws, draft.id).last_submitted_pipeline_run_id == run.id)

(report_run,) = run.find_step_run("report")
local = tempfile.mkdtemp()
path = report_run.get_output("report").get_port_data_reference().download(local)
print("report:", open(os.path.join(path, "report.txt")).read().strip())

published = draft.publish()
print("published from the draft:", published.name, published.status)
