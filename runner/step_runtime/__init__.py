"""Code that runs inside a step's process or container. Standard library only.

It gives a step script the SDK's `Run.get_context()`; logged values are appended as JSON
lines to the step run's event file, which the runner ingests into SQLite while the step runs.
"""
from runner.step_runtime.run import Run

__all__ = ["Run"]
