"""`azureml.pipeline.core._parallel_run_config_base` for amlocal: the base class the SDK's
ParallelRunConfig (and `ParallelRunConfig.load_yaml`'s result) is, which some code imports."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "_ParallelRunConfigBase": "runner.sdk.steps:ParallelRunConfig",
})
