"""`azureml.data.output_dataset_config` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "OutputFileDatasetConfig": "runner.sdk.output_datasets",
    "OutputTabularDatasetConfig": "runner.sdk.output_datasets",
    "RegistrationConfiguration": "runner.sdk.output_datasets",
})
