"""`azureml.pipeline.core.graph` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PipelineParameter": "runner.sdk.pipeline_data",
    "PublishedPipeline": "runner.sdk.pipeline",
    "PortDataReference": "runner.sdk.runs",
    "InputPortBinding": "runner.sdk.pipeline_data",
    "OutputPortBinding": "runner.sdk.port_bindings",
    "TrainingOutput": "runner.sdk.port_bindings",
    "InputPortDef": "runner.sdk.module_ports",
    "OutputPortDef": "runner.sdk.module_ports",
    "PipelineRun": "runner.sdk.runs",
    "Module": "runner.sdk.module",
    "DataPath": "runner.sdk.data",
    "DataPathComputeBinding": "runner.sdk.data",
    "DataReference": "runner.sdk.data",
    "DatasetConsumptionConfig": "runner.sdk.data",
    "FileDataset": "runner.sdk.data",
})
