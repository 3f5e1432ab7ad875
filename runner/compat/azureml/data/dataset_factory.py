"""`azureml.data.dataset_factory` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "DataType": "runner.step_runtime.tabular_types",
    "TabularDatasetFactory": "runner.step_runtime.dataset_factory:TabularDatasetFactory",
    "FileDatasetFactory": "runner.step_runtime.dataset_factory:FileDatasetFactory",
})
