"""`azureml.pipeline.core._parallel_run_step_base` for amlocal: the base class of the SDK's
ParallelRunStep, which some code imports or checks with isinstance."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "_ParallelRunStepBase": "runner.sdk.steps:ParallelRunStep",
})
