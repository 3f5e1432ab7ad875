"""`azureml.pipeline.core.module` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Module": "runner.sdk.module",
    "ModuleVersion": "runner.sdk.module",
    "ModuleVersionDescriptor": "runner.sdk.module",
    "InputPortDef": "runner.sdk.module_ports",
    "OutputPortDef": "runner.sdk.module_ports",
    "PipelineParameter": "runner.sdk.pipeline_data",
    "PipelineStep": "runner.sdk.steps.base",
})
