"""Cloud-only features fail when the pipeline is built, before anything runs: one line on
stderr naming the feature and the local alternative, exit status 1, no traceback."""
from __future__ import annotations

import pytest

from tests.conftest import amlocal

HEAD = """\
import os
from azureml.core import Workspace, Environment
from azureml.core.runconfig import RunConfiguration, DEFAULT_GPU_IMAGE
from azureml.pipeline.core import Pipeline
from azureml.pipeline.steps import PythonScriptStep
ws = Workspace.from_config()
here = os.path.dirname(os.path.abspath(__file__))
open(os.path.join(here, "train.py"), "w").write("print('never runs')\\n")
"""

CASES = {
    "automl": ("from azureml.train.automl import AutoMLConfig\n",
               "pipeline.py:9: NotProvidedModuleError: amlocal does not provide azureml.train.automl "
               "yet: AutoML runs only on Azure ML; train with your own script in a PythonScriptStep"),
    "automl_step": ("from azureml.pipeline.steps import AutoMLStep\n",
                    "pipeline.py:9: NotProvidedImportError: amlocal does not provide AutoMLStep yet: "
                    "AutoML runs only on Azure ML; train with your own script in a PythonScriptStep"),
    "data_factory": ("from azureml.core.compute import DataFactoryCompute\n",
                     "pipeline.py:9: NotProvidedImportError: amlocal does not provide "
                     "DataFactoryCompute yet: Data Factory runs only on Azure; copy data with a "
                     "DataTransferStep or a PythonScriptStep"),
    "sql": ("from azureml.core import Datastore\n"
            "Datastore.register_azure_sql_database(ws, 'sql', 'server', 'db')\n",
            "pipeline.py:10: UserErrorException: Datastore.register_azure_sql_database: Azure SQL "
            "Database is a cloud-only datastore amlocal cannot reach; export the data to files and "
            "register a local folder for them with Datastore.register_azure_blob_container (or "
            "upload them to workspaceblobstore)"),
    "curated_gpu": ("env = Environment.get(ws, 'AzureML-PyTorch-1.6-GPU')\n",
                    "pipeline.py:9: UserErrorException: Environment AzureML-PyTorch-1.6-GPU is a "
                    "curated Azure ML environment, which exists only in Azure: define it in the "
                    "script instead, e.g. Environment.from_conda_specification('AzureML-PyTorch-"
                    "1.6-GPU', 'environment.yml') or Environment.from_pip_requirements('AzureML-"
                    "PyTorch-1.6-GPU', 'requirements.txt') with the packages it has"),
    "gpu_image": ("rc = RunConfiguration()\nrc.environment.docker.base_image = DEFAULT_GPU_IMAGE\n"
                  "step = PythonScriptStep('train.py', name='train', source_directory=here, runconfig=rc)\n"
                  "Pipeline(ws, [step])\n",
                  "pipeline.py:12: UserErrorException: Step [train]: environment default-environment "
                  "uses Azure's GPU image mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-"
                  "ubuntu22.04; amlocal runs steps without GPUs: use DEFAULT_CPU_IMAGE (or an image of "
                  "your own) with the CPU build of your framework"),
    "databricks_notebook": (
        "from azureml.pipeline.steps import DatabricksStep\n"
        "step = DatabricksStep('nb', existing_cluster_id='c', notebook_path='/Users/me/nb', compute_target=('dbx', 'Databricks'))\n"
        "Pipeline(ws, [step])\n",
        "pipeline.py:11: UserErrorException: DatabricksStep [nb] runs the notebook /Users/me/nb, "
        "which needs Databricks; amlocal runs Databricks steps locally only as python_script_name= "
        "from source_directory= (put the code in a .py script)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_cloud_only_feature_is_one_line_when_the_pipeline_is_built(case, tmp_path, write):
    code, message = CASES[case]
    script = write(f"{case}/pipeline.py", HEAD + code)
    done = amlocal("run", str(script), cwd=tmp_path, env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")})
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("amlocal: error:")]
    assert errors == [f"amlocal: error: {message}"]
    assert "Traceback" not in done.stderr
    assert "Submitted PipelineRun" not in done.stdout  # nothing ran
