"""The `azureml` package of amlocal: unmodified Azure ML SDK v1 scripts import from here.

`amlocal run` puts this package first on sys.path; inside a step it is on PYTHONPATH. Like the
real SDK's, it is a pkgutil-style namespace, so other installed `azureml-*` distributions
(widgets, opendatasets, mlflow, …) import beside it; a module that neither amlocal nor any of
them provides raises one line saying so (see `_amlocal_missing`).
"""
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from azureml._amlocal_missing import install_missing_module_hints  # noqa: E402

install_missing_module_hints()
