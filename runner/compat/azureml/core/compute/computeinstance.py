"""`azureml.core.compute.computeinstance` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ComputeInstance": "runner.sdk.compute_instance",
    "ComputeInstanceProvisioningConfiguration": "runner.sdk.compute_instance",
    "ComputeInstanceStatus": "runner.sdk.compute_instance",
})
