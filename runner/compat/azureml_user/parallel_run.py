"""`azureml_user.parallel_run`: `EntryScript().logger` for a ParallelRunStep's entry script."""
from runner.step_runtime.parallel_entry import EntryScript

__all__ = ["EntryScript"]
