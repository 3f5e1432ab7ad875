"""Train, evaluate and promote a churn model with the workspace registries: an Azure ML SDK v1
pipeline, written as for the cloud.

    amlocal run sample_projects/mlops_registry/pipeline.py
    AMLOCAL_EXECUTOR=local amlocal run sample_projects/mlops_registry/pipeline.py

The script registers what the steps use: the environment of environment.yml as "mlops-env"
(an unchanged file keeps version 1) and data/churn.csv as the TabularDataset "churn-raw"
(`create_new_version=True`: a new data file adds a version, the same one keeps the latest).

prep reads "churn-raw" by name inside the step and writes a train/test split; train fits a
logistic regression with NumPy and writes outputs/model.json; evaluate scores the registered
"churn-model" (if any) on the same test rows and registers the new model, with its accuracy
as a tag, only when it is more accurate.

prep gets the dataset's version as an argument: a step that reads a dataset by name is
otherwise blind to new versions, and its reuse would hand on a split of the old data.
evaluate never reuses an earlier run (allow_reuse=False), because what it decides depends on
the model registry, which is not one of its inputs. A second run on the same data reuses prep
and train, and evaluate keeps the registered model. The next data drop (`python make_data.py
--rows 800`) is dataset version 2, and its model, more accurate, churn-model version 2.

The steps need pandas (environment.yml): in Docker amlocal builds an image with it once; the
local executor runs them with amlocal's own Python (install amlocal with its `data` extra).
"""
import hashlib
import os

from azureml.core import Dataset, Environment, Experiment, Workspace
from azureml.core.runconfig import RunConfiguration
from azureml.data import OutputFileDatasetConfig
from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import PythonScriptStep

DATASET = "churn-raw"
MODEL = "churn-model"

here = os.path.dirname(os.path.abspath(__file__))
ws = Workspace.from_config()

Environment.from_conda_specification("mlops-env", os.path.join(here, "environment.yml")).register(ws)
run_config = RunConfiguration()
run_config.environment = Environment.get(ws, "mlops-env")

# Each data drop lands in a folder of its own, named by its content: a dataset is a path, not
# a copy, so data overwritten in place would stay the same dataset version (as in Azure).
data_file = os.path.join(here, "data", "churn.csv")
with open(data_file, "rb") as f:
    drop = "mlops_registry/raw/" + hashlib.sha256(f.read()).hexdigest()[:12]
datastore = ws.get_default_datastore()
datastore.upload_files([data_file], target_path=drop, overwrite=True, show_progress=False)
churn = Dataset.Tabular.from_delimited_files(path=(datastore, drop + "/churn.csv"))
churn = churn.register(ws, DATASET, description="telecom customers, one row each, with churned 0/1",
                       tags={"source": "data/churn.csv"}, create_new_version=True)
print(f"dataset {churn.name}:{churn.version}")

split = OutputFileDatasetConfig(name="split")
model = PipelineData("model", datastore=datastore)
steps = os.path.join(here, "steps")

prep = PythonScriptStep(name="prep", script_name="prep.py",
                        source_directory=os.path.join(steps, "prep"),
                        arguments=["--dataset", DATASET, "--dataset-version", churn.version,
                                   "--test-fraction", 0.25, "--out", split],
                        runconfig=run_config)
train = PythonScriptStep(name="train", script_name="train.py",
                         source_directory=os.path.join(steps, "train"),
                         arguments=["--data", split.as_input("split"), "--out", model,
                                    "--iterations", 400, "--learning-rate", 0.5],
                         outputs=[model], runconfig=run_config)
evaluate = PythonScriptStep(name="evaluate", script_name="evaluate.py",
                            source_directory=os.path.join(steps, "evaluate"),
                            arguments=["--data", split.as_input("test_split"), "--model", model,
                                       "--model-name", MODEL, "--dataset", DATASET,
                                       "--dataset-version", churn.version],
                            inputs=[model], runconfig=run_config, allow_reuse=False)

pipeline = Pipeline(workspace=ws, steps=[evaluate], description="mlops_registry")
run = Experiment(ws, "mlops-registry").submit(pipeline)
run.wait_for_completion(show_output=True)
