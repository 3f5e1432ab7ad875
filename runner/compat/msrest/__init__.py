"""A minimal `msrest` for amlocal: the package azureml-core installs, so `msrest.exceptions`
(whose `HttpOperationError` scripts catch around SDK calls) imports in scripts and steps."""
__version__ = "0.7.1"
