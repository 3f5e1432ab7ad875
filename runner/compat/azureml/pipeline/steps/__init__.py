"""`azureml.pipeline.steps` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PythonScriptStep": "runner.sdk.steps",
    "CommandStep": "runner.sdk.steps",
    "DataTransferStep": "runner.sdk.steps",
    "DatabricksStep": "runner.sdk.steps",
    "EstimatorStep": "runner.sdk.steps",
    "MpiStep": "runner.sdk.steps",
    "ModuleStep": "runner.sdk.steps",
    "ParallelRunConfig": "runner.sdk.steps",
    "ParallelRunStep": "runner.sdk.steps",
})
