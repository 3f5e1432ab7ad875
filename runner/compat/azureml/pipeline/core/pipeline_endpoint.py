"""`azureml.pipeline.core.pipeline_endpoint` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PipelineEndpoint": "runner.sdk.pipeline_endpoint",
    "PipelineIdVersion": "runner.sdk.pipeline_endpoint",
    "PublishedPipeline": "runner.sdk.pipeline",
    "PipelineRun": "runner.sdk.runs",
})
