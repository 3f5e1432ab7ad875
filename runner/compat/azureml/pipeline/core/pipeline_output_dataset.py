"""`azureml.pipeline.core.pipeline_output_dataset` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PipelineOutputAbstractDataset": "runner.sdk.pipeline_output_dataset",
    "PipelineOutputFileDataset": "runner.sdk.pipeline_output_dataset",
    "PipelineOutputTabularDataset": "runner.sdk.pipeline_output_dataset",
})
