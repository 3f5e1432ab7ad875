"""Compare two models on one dataset: an Azure ML SDK v1 pipeline, written as for the cloud.

    amlocal run sample_projects/compare_models/pipeline.py

prep splits the data uploaded to the default datastore; train_mean and train_linear fit two
models in parallel; compare reads both and logs which one wins.

Each step has a source directory of its own (steps/prep, steps/train, steps/compare), as Azure
ML advises: a step's snapshot is its whole source directory, so an edit to train.py reruns the
two trainings and compare, and prep is reused.
"""
import os

from azureml.core import Experiment, Workspace
from azureml.data.data_reference import DataReference
from azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter
from azureml.pipeline.steps import PythonScriptStep

here = os.path.dirname(os.path.abspath(__file__))
ws = Workspace.from_config()
datastore = ws.get_default_datastore()
datastore.upload_files([os.path.join(here, "data", "houses.csv")], target_path="compare_models/raw",
                       overwrite=True, show_progress=False)
raw_data = DataReference(datastore, data_reference_name="raw_data",
                         path_on_datastore="compare_models/raw")

test_fraction = PipelineParameter(name="test_fraction", default_value=0.25)
prepared = PipelineData("prepared", datastore=datastore)
mean_model = PipelineData("mean_model", datastore=datastore)
linear_model = PipelineData("linear_model", datastore=datastore)
steps = os.path.join(here, "steps")

prep = PythonScriptStep(name="prep", script_name="prep.py",
                        source_directory=os.path.join(steps, "prep"),
                        arguments=["--raw", raw_data, "--out", prepared,
                                   "--test-fraction", test_fraction],
                        inputs=[raw_data], outputs=[prepared])
train_mean = PythonScriptStep(name="train_mean", script_name="train.py",
                              source_directory=os.path.join(steps, "train"),
                              arguments=["--data", prepared, "--model", "mean", "--out", mean_model],
                              inputs=[prepared], outputs=[mean_model])
train_linear = PythonScriptStep(name="train_linear", script_name="train.py",
                                source_directory=os.path.join(steps, "train"),
                                arguments=["--data", prepared, "--model", "linear",
                                           "--out", linear_model],
                                inputs=[prepared], outputs=[linear_model])
compare = PythonScriptStep(name="compare", script_name="compare.py",
                           source_directory=os.path.join(steps, "compare"),
                           arguments=["--models", mean_model, linear_model],
                           inputs=[mean_model, linear_model])

pipeline = Pipeline(workspace=ws, steps=[compare], description="compare_models")
run = Experiment(ws, "compare-models").submit(pipeline)
run.wait_for_completion(show_output=True)
