"""`azureml.core.compute` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ComputeTarget": "runner.sdk.compute",
    "AmlCompute": "runner.sdk.compute",
    "DatabricksCompute": "runner.sdk.compute",
    "AdlaCompute": "runner.sdk.compute",
    "ComputeInstance": "runner.sdk.compute_instance",
})
