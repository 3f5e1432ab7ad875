"""`azureml.core.environment` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Environment": "runner.sdk.environment",
    "PythonSection": "runner.sdk.environment",
    "DockerSection": "runner.sdk.environment",
    "DEFAULT_CPU_IMAGE": "runner.sdk.environment",
    "DEFAULT_GPU_IMAGE": "runner.sdk.environment",
    "PYTHON_DEFAULT_VERSION": "runner.sdk.environment",
    "CondaDependencies": "runner.sdk.conda_dependencies",
    "UserErrorException": "runner.step_runtime.exceptions",
})
