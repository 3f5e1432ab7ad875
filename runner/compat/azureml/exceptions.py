"""`azureml.exceptions` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "AzureMLException": "runner.step_runtime.exceptions",
    "UserErrorException": "runner.step_runtime.exceptions",
    "ActivityFailedException": "runner.step_runtime.exceptions",
    "ComputeTargetException": "runner.step_runtime.exceptions",
    "RunEnvironmentException": "runner.step_runtime.exceptions",
    "ExperimentExecutionException": "runner.step_runtime.exceptions",
    "AuthenticationException": "runner.step_runtime.exceptions",
    "TrainingException": "runner.step_runtime.exceptions",
    "RunConfigurationException": "runner.step_runtime.exceptions",
    "WebserviceException": "runner.step_runtime.exceptions",
    "ModelNotFoundException": "runner.step_runtime.exceptions",
})
