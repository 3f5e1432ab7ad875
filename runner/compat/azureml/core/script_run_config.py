"""`azureml.core.script_run_config` for amlocal: `ScriptRunConfig` (a single run, recorded
as a pipeline run of one step)."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ScriptRunConfig": "runner.sdk.script_run_config",
    "get_run_config_from_script_run": "runner.sdk.script_run_config",
})
