"""`azureml.pipeline.core.builder` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PipelineData": "runner.sdk.pipeline_data",
    "StepSequence": "runner.sdk.graph",
    "PipelineStep": "runner.sdk.steps.base",
    "InputPortBinding": "runner.sdk.pipeline_data",
    "OutputPortBinding": "runner.sdk.port_bindings",
    "PipelineParameter": "runner.sdk.pipeline_data",
    "PortDataReference": "runner.sdk.runs",
    "DataReference": "runner.sdk.data",
    "DatasetConsumptionConfig": "runner.sdk.data",
})
