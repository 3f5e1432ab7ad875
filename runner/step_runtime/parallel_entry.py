"""`azureml_user.parallel_run.EntryScript` for a ParallelRunStep's entry script: its `logger`
writes to the worker's own file in Azure's layout (logs/user/entry_script_log/<node>/
<process>.log.txt) and to the worker's stderr. Standard library only.
"""
from __future__ import annotations

import logging
from typing import Any

_state: dict[str, Any] = {"path": None, "level": "INFO", "process": "process000"}


def configure(path: str, level: str, process_name: str) -> None:
    """Where this worker's entry-script log goes (the worker calls it before init())."""
    _state.update(path=path, level=level, process=process_name)


class EntryScript:
    """The entry script's view of its ParallelRunStep: a logger, and the folder to write
    its own files in."""

    def __init__(self) -> None:
        self._logger: logging.Logger | None = None

    @property
    def logger(self) -> logging.Logger:
        """A logger that lands in this worker's entry-script log file."""
        if self._logger is None:
            self._logger = _logger()
        return self._logger

    @property
    def log_dir(self) -> str | None:
        """The folder of this worker's entry-script log."""
        import os
        path = _state["path"]
        return os.path.dirname(path) if path else None


def _logger() -> logging.Logger:
    logger = logging.getLogger(f"ParallelRunStep.{_state['process']}")
    if not logger.handlers:
        formatter = logging.Formatter("%(asctime)s|%(levelname)s|%(process)d|%(name)s|%(message)s")
        handlers: list[logging.Handler] = [logging.StreamHandler()]
        if _state["path"]:
            handlers.append(logging.FileHandler(_state["path"]))
        for handler in handlers:
            handler.setFormatter(formatter)
            logger.addHandler(handler)
        logger.setLevel(getattr(logging, str(_state["level"]).upper(), logging.INFO))
        logger.propagate = False
    return logger
