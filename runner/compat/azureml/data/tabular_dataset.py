"""`azureml.data.tabular_dataset` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "TabularDataset": "runner.sdk.tabular_dataset:TabularDataset | runner.step_runtime.tabular_dataset:TabularDataset",
})
