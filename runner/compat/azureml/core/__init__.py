"""`azureml.core` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Workspace": "runner.sdk.workspace",
    "Datastore": "runner.sdk.datastore",
    "Experiment": "runner.sdk.experiment",
    "Dataset": "runner.sdk.data:Dataset | runner.step_runtime.dataset_factory:Dataset",
    "ComputeTarget": "runner.sdk.compute",
    "Run": "runner.step_runtime.run",
    "Environment": "runner.sdk.environment",
    "Model": "runner.step_runtime.model",
    "RunConfiguration": "runner.sdk.runconfig",
    "ScriptRunConfig": "runner.sdk.script_run_config",
    "ScriptRun": "runner.sdk.script_run_config",
    "get_run": "runner.sdk.runs:get_run",
    "Keyvault": "runner.sdk.keyvault",
    "VERSION": "runner.step_runtime.versions:SDK_VERSION",
    "__version__": "runner.step_runtime.versions:SDK_VERSION",
})
