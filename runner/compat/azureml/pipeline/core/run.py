"""`azureml.pipeline.core.run` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PipelineRun": "runner.sdk.runs",
    "StepRun": "runner.sdk.runs",
    "StepRunOutput": "runner.sdk.step_run_output",
    "Run": "runner.step_runtime.run",
    "ActivityFailedException": "runner.step_runtime.exceptions",
})
