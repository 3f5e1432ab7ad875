"""`azureml.core.authentication` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "AbstractAuthentication": "runner.sdk.authentication",
    "InteractiveLoginAuthentication": "runner.sdk.authentication",
    "AzureCliAuthentication": "runner.sdk.authentication",
    "MsiAuthentication": "runner.sdk.authentication",
    "ServicePrincipalAuthentication": "runner.sdk.authentication",
    "TokenAuthentication": "runner.sdk.authentication",
    "Audience": "runner.sdk.authentication",
    "AuthenticationException": "runner.step_runtime.exceptions",
})
