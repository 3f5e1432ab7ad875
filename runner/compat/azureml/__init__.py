"""The `azureml` package of amlocal: unmodified Azure ML SDK v1 scripts import from here.

`amlocal run` puts this package first on sys.path; inside a step it is on PYTHONPATH.
"""
