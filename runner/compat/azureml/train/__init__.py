"""`azureml.train` for amlocal: re-exports amlocal's implementation lazily."""
