"""Getting started with Azure ML pipelines: a v1 pipeline written the way Microsoft's public
pipeline notebooks write it (aml-pipelines-getting-started, pipeline-parameters, publish).

    amlocal run sample_projects/v1_getting_started/pipeline.py

It prints the SDK version, finds or creates a cluster, uploads generated sensor readings, builds
a dataset over a glob of them, and runs prep → train → evaluate with a run configuration from
`azureml.core.runconfig`, PipelineData between the steps, a PipelineParameter, RunDetails, a
named pipeline output; then publishes the pipeline and submits the published one with another
parameter value.
"""
import csv
import os
import random
import tempfile

import azureml.core
from azureml.core import Dataset, Experiment, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException
from azureml.core.runconfig import (DEFAULT_CPU_IMAGE, CondaDependencies, DockerConfiguration,
                                    RunConfiguration)
from azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter, PublishedPipeline
from azureml.pipeline.steps import PythonScriptStep
from azureml.widgets import RunDetails

print("SDK version:", azureml.core.VERSION)

here = os.path.dirname(os.path.abspath(__file__))
ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, sep="\n")
def_blob_store = ws.get_default_datastore()

# ---- compute: the notebooks' "find it or create it" cell
cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing compute target.")
except ComputeTargetException:
    print("Creating a new compute target...")
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
    compute_target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)
print(compute_target.get_status().serialize())

# ---- data: generated here (no download), uploaded, read back as a dataset over a glob
random.seed(7)
folder = tempfile.mkdtemp()
for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
    with open(os.path.join(folder, f"readings-{day}.csv"), "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["temperature", "load"])
        for _ in range(40):
            temperature = round(random.uniform(10, 30), 2)
            out.writerow([temperature, round(3 * temperature + random.gauss(0, 2), 2)])
with open(os.path.join(folder, "README.txt"), "w") as fh:
    fh.write("not a reading; the dataset's glob leaves it out\n")
def_blob_store.upload(src_dir=folder, target_path="getting_started/readings", overwrite=True,
                      show_progress=False)
readings = Dataset.File.from_files(path=def_blob_store.path("getting_started/readings/*.csv"))

# ---- how the steps run
run_config = RunConfiguration()
run_config.docker = DockerConfiguration(use_docker=True)
run_config.environment.docker.base_image = DEFAULT_CPU_IMAGE
run_config.environment.python.user_managed_dependencies = False
run_config.environment.python.conda_dependencies = CondaDependencies.create(python_version="3.11")

# ---- the pipeline
train_fraction = PipelineParameter(name="train_fraction", default_value=0.75)
prepared = PipelineData("prepared", datastore=def_blob_store)
model = PipelineData("model", datastore=def_blob_store, pipeline_output_name="trained_model")
steps = os.path.join(here, "steps")

prep_step = PythonScriptStep(name="prep", script_name="prep.py",
                             source_directory=os.path.join(steps, "prep"),
                             arguments=["--readings", readings.as_named_input("readings").as_mount(),
                                        "--output", prepared, "--train-fraction", train_fraction],
                             outputs=[prepared], compute_target=compute_target,
                             runconfig=run_config, allow_reuse=True)
train_step = PythonScriptStep(name="train", script_name="train.py",
                              source_directory=os.path.join(steps, "train"),
                              arguments=["--data", prepared, "--model", model],
                              inputs=[prepared], outputs=[model], compute_target=compute_target,
                              runconfig=run_config)
evaluate_step = PythonScriptStep(name="evaluate", script_name="evaluate.py",
                                 source_directory=os.path.join(steps, "evaluate"),
                                 arguments=["--data", prepared, "--model", model],
                                 inputs=[prepared, model], compute_target=compute_target,
                                 runconfig=run_config)
print("Pipeline steps created")

pipeline1 = Pipeline(workspace=ws, steps=[evaluate_step], description="getting_started")
print("Pipeline is built")
pipeline1.validate()
print("Pipeline validation complete")

pipeline_run1 = Experiment(ws, "Hello_World").submit(pipeline1, regenerate_outputs=False)
print("Pipeline is submitted for execution")
RunDetails(pipeline_run1).show()
pipeline_run1.wait_for_completion(show_output=False)
print("metrics:", pipeline_run1.get_metrics())
trained = pipeline_run1.get_pipeline_output("trained_model")
print("model saved at", trained.datastore_name + ":" + trained.path_on_datastore)

# ---- publish, then run the published pipeline with another parameter value
published_pipeline1 = pipeline1.publish(name="getting_started", description="prep, train, evaluate",
                                        continue_on_step_failure=False)
print("published", published_pipeline1.name, "version", published_pipeline1.version)
pipeline_run2 = PublishedPipeline.get(ws, published_pipeline1.id).submit(
    ws, "Hello_World", pipeline_parameters={"train_fraction": 0.5})
pipeline_run2.wait_for_completion(show_output=False)
print("second run:", pipeline_run2.get_status(), pipeline_run2.get_metrics())
