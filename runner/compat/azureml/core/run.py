"""`azureml.core.run` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Run": "runner.step_runtime.run",
    "_OfflineRun": "runner.step_runtime.run",
    "get_run": "runner.sdk.runs:get_run",
})
