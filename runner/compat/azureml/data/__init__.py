"""`azureml.data` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "DataType": "runner.step_runtime.tabular_types",
    "TabularDataset": "runner.sdk.tabular_dataset:TabularDataset | runner.step_runtime.tabular_dataset:TabularDataset",
    "FileDataset": "runner.sdk.data:FileDataset | runner.step_runtime.file_dataset:FileDataset",
    "OutputFileDatasetConfig": "runner.sdk.data",
    "DataReference": "runner.sdk.data",
})
