"""`azureml.pipeline` for amlocal: re-exports amlocal's implementation lazily."""
