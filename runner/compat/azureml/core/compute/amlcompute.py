"""`azureml.core.compute.amlcompute` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "AmlCompute": "runner.sdk.compute",
    "AmlComputeProvisioningConfiguration": "runner.sdk.compute",
    "AmlComputeStatus": "runner.sdk.compute_status",
    "AmlComputeNodeStateCounts": "runner.sdk.compute_status",
    "ScaleSettings": "runner.sdk.compute_status",
    "ComputeTarget": "runner.sdk.compute",
    "ComputeTargetException": "runner.step_runtime.exceptions",
})
