"""`azureml.train.dnn` for amlocal: re-exports amlocal's implementation lazily."""
from azureml._amlocal_lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "TensorFlow": "runner.sdk.framework_estimators",
    "PyTorch": "runner.sdk.framework_estimators",
    "Chainer": "runner.sdk.framework_estimators",
    "Mpi": "runner.sdk.framework_estimators",
    "ParameterServer": "runner.sdk.framework_estimators",
    "Gloo": "runner.sdk.framework_estimators",
    "Nccl": "runner.sdk.framework_estimators",
})
