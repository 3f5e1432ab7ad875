"""`azureml.pipeline.core.graph` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PipelineParameter": "runner.sdk.pipeline_data",
    "PublishedPipeline": "runner.sdk.pipeline",
    "PortDataReference": "runner.sdk.runs",
    "InputPortBinding": "runner.sdk.pipeline_data",
    "InputPortDef": "runner.sdk.module",
    "OutputPortDef": "runner.sdk.module",
})
