"""`Experiment.start_logging()`: an interactive run, logged from the current process.

It is recorded as a pipeline run with no steps (see `Client.start_interactive`), so it is
listed and shown like any run; what is logged to it (`log`, `log_row`, `tag`,
`upload_file`, …) is stored at once, as for any run read back from the store. `complete()`
keeps the files of its outputs folder and ends it Finished; `fail()` ends it Failed; used as
a context manager, it completes, or fails with the exception that left the block.
"""
from __future__ import annotations

import os
from types import TracebackType
from typing import Any

from runner.client import Client
from runner.sdk.runs import PipelineRun
from store import status as st

DEFAULT_OUTPUTS = "outputs"


class InteractiveRun(PipelineRun):
    """A run this process logs to and ends itself (`complete`, `fail`, `cancel`)."""

    def __init__(self, experiment: Any, run_id: str, outputs: str | None = None, **kwargs: Any) -> None:
        super().__init__(experiment, run_id)
        self._outputs = os.path.abspath(outputs or DEFAULT_OUTPUTS)

    @property
    def type(self) -> str:
        return "azureml.interactive"

    def _end(self, status: str, error: str | None = None) -> None:
        Client(self._local).finish_interactive(self.id, status, error)

    def complete(self, _set_status: bool = True) -> None:
        """Keep the files of the outputs folder (as `outputs/…`) and end the run Finished."""
        if os.path.isdir(self._outputs) and self.get_status() in st.ACTIVE:
            self.upload_folder(DEFAULT_OUTPUTS, self._outputs)
        self._end(st.FINISHED)

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        """End the run Failed; `error_details` (an exception or text) is its error."""
        detail = error_details if error_details is not None else "failed by the script"
        if isinstance(detail, BaseException):
            detail = f"{type(detail).__name__}: {detail}"
        self._end(st.FAILED, f"{error_code}: {detail}" if error_code else str(detail))

    def cancel(self) -> None:
        """End the run Canceled."""
        self._end(st.CANCELED, "canceled by the script")

    def flush(self, timeout_seconds: int = 300) -> None:
        """Nothing to do: what is logged is stored at once."""

    def __enter__(self) -> "InteractiveRun":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.complete()
        else:
            self.fail(exc)
