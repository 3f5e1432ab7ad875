"""`azureml.pipeline.core.schedule` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Schedule": "runner.sdk.schedule",
    "ScheduleRecurrence": "runner.sdk.schedule_recurrence",
    "TimeZone": "runner.sdk.schedule_recurrence",
    "PipelineRun": "runner.sdk.runs",
    "PublishedPipeline": "runner.sdk.pipeline",
})
