"""`azureml.core.runconfig` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "RunConfiguration": "runner.sdk.runconfig",
    "DockerConfiguration": "runner.sdk.runconfig_sections",
    "MpiConfiguration": "runner.sdk.runconfig_sections",
    "PyTorchConfiguration": "runner.sdk.runconfig_sections",
    "TensorflowConfiguration": "runner.sdk.runconfig_sections",
    "SUPPORTED_PYTORCH_BACKENDS": "runner.sdk.runconfig_sections",
    "CondaDependencies": "runner.sdk.conda_dependencies",
    "Environment": "runner.sdk.environment",
    "PythonSection": "runner.sdk.environment",
    "DockerSection": "runner.sdk.environment",
    "DEFAULT_CPU_IMAGE": "runner.sdk.environment",
    "DEFAULT_GPU_IMAGE": "runner.sdk.environment",
    "MPI_CPU_IMAGE": "runner.sdk.environment:DEFAULT_CPU_IMAGE",
    "MPI_GPU_IMAGE": "runner.sdk.environment:DEFAULT_GPU_IMAGE",
    "DataPath": "runner.sdk.data",
    "DatasetConsumptionConfig": "runner.sdk.data",
    "RunConfigurationException": "runner.step_runtime.exceptions",
    "UserErrorException": "runner.step_runtime.exceptions",
})
