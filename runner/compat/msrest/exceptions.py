"""`msrest.exceptions` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "raise_with_traceback": "runner.step_runtime.http_errors",
    "ClientException": "runner.step_runtime.http_errors",
    "SerializationError": "runner.step_runtime.http_errors",
    "DeserializationError": "runner.step_runtime.http_errors",
    "TokenExpiredError": "runner.step_runtime.http_errors",
    "ValidationError": "runner.step_runtime.http_errors",
    "ClientRequestError": "runner.step_runtime.http_errors",
    "AuthenticationError": "runner.step_runtime.http_errors",
    "HttpOperationError": "runner.step_runtime.http_errors",
})
