"""`azureml_user`: the package a ParallelRunStep's entry script imports its helpers from."""
