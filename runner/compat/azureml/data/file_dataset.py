"""`azureml.data.file_dataset` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "FileDataset": "runner.sdk.data:FileDataset | runner.step_runtime.file_dataset:FileDataset",
})
