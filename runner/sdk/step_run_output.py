"""`StepRunOutput`: one output of a step run, as `StepRun.get_output(name)` returns it."""
from __future__ import annotations

from typing import Any


class StepRunOutput:
    """An output created by a step run; `get_port_data_reference()` gives where its data lives
    (a PortDataReference to download, or to use as an input of a later pipeline)."""

    def __init__(self, context: Any, pipeline_run_id: str, step_run: Any, name: str,
                 step_output: Any) -> None:
        self.context = context
        self.pipeline_run_id = pipeline_run_id
        self.step_run = step_run
        self.name = name
        self.step_output = step_output

    def get_port_data_reference(self) -> Any:
        """The PortDataReference of this output."""
        return self.step_output

    def __repr__(self) -> str:
        return f"StepRunOutput(name={self.name!r}, {self.step_output!r})"
