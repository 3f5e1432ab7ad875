"""`azureml.pipeline.steps.parallel_run_step` for amlocal: amlocal has none of
its names yet; each one raises the "amlocal does not provide X yet" error with what to use."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {})
