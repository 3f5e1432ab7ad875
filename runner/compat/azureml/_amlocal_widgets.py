"""`azureml.widgets` for amlocal, used only where the `azureml-widgets` package is not installed
(see `_amlocal_missing`): `RunDetails(run).show()` shows a run's steps, live in a notebook."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "RunDetails": "runner.sdk.run_details",
})
