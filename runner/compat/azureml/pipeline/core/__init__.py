"""`azureml.pipeline.core` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Pipeline": "runner.sdk.pipeline",
    "PipelineData": "runner.sdk.pipeline_data",
    "PipelineParameter": "runner.sdk.pipeline_data",
    "PublishedPipeline": "runner.sdk.pipeline",
    "PipelineEndpoint": "runner.sdk.pipeline_endpoint",
    "PipelineRun": "runner.sdk.runs",
    "StepRun": "runner.sdk.runs",
    "StepRunOutput": "runner.sdk.step_run_output",
    "StepSequence": "runner.sdk.graph",
    "PortDataReference": "runner.sdk.runs",
    "InputPortBinding": "runner.sdk.pipeline_data",
    "OutputPortBinding": "runner.sdk.port_bindings",
    "TrainingOutput": "runner.sdk.port_bindings",
    "PipelineStep": "runner.sdk.steps.base",
    "Module": "runner.sdk.module",
    "ModuleVersion": "runner.sdk.module",
    "ModuleVersionDescriptor": "runner.sdk.module",
    "PipelineDraft": "runner.sdk.pipeline_draft",
    "Schedule": "runner.sdk.schedule",
    "ScheduleRecurrence": "runner.sdk.schedule_recurrence",
    "TimeZone": "runner.sdk.schedule_recurrence",
})
