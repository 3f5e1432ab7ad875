"""Describe a dataset with NumPy: a pipeline whose step needs a pip package in its environment.

    amlocal run --executor docker sample_projects/numpy_stats/pipeline.py

The step's Environment asks for numpy. With the Docker executor amlocal builds an image with
it once (the wheel is fetched on this machine and installed in the image offline) and every
later run reuses that image. The local executor does not install packages: there the step
needs numpy in the Python that runs amlocal.
"""
import os

from azureml.core import Environment, Experiment, Workspace
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.runconfig import RunConfiguration
from azureml.data.data_reference import DataReference
from azureml.pipeline.core import Pipeline
from azureml.pipeline.steps import PythonScriptStep

here = os.path.dirname(os.path.abspath(__file__))
ws = Workspace.from_config()
datastore = ws.get_default_datastore()
datastore.upload_files([os.path.join(here, "..", "compare_models", "data", "houses.csv")],
                       target_path="numpy_stats/raw", overwrite=True, show_progress=False)
raw_data = DataReference(datastore, data_reference_name="raw_data",
                         path_on_datastore="numpy_stats/raw")

environment = Environment("numpy-stats")
environment.python.conda_dependencies = CondaDependencies.create(pip_packages=["numpy==2.2.6"])
run_config = RunConfiguration()
run_config.environment = environment

describe = PythonScriptStep(name="describe", script_name="describe.py",
                            source_directory=os.path.join(here, "steps"),
                            arguments=["--data", raw_data], inputs=[raw_data],
                            runconfig=run_config)

pipeline = Pipeline(workspace=ws, steps=[describe], description="numpy_stats")
run = Experiment(ws, "numpy-stats").submit(pipeline)
run.wait_for_completion(show_output=True)
