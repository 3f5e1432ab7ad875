"""amlocal's Jupyter kernel: IPython with amlocal's `azureml` first on the path, and every
submit of the notebook made in one submission scope (`runner.client.submission_scope`).

Jupyter (or `amlocal run NOTEBOOK.ipynb`) starts it as `python -m runner.notebook.kernel -f
CONNECTION_FILE`. The kernel is a process of its own, so what `amlocal run` must know comes
in environment variables: the notebook (the runs' `script`), the executor asked for, and a
file to which the ids of the runs submitted so far are written after every cell.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from runner.client import ScopeDefaults, SubmissionScope, submission_scope
from runner.paths import COMPAT_DIR

ENV_NOTEBOOK = "AMLOCAL_NOTEBOOK"
ENV_EXECUTOR = "AMLOCAL_NOTEBOOK_EXECUTOR"
ENV_RECORD = "AMLOCAL_NOTEBOOK_RECORD"
ENV_NO_WAIT = "AMLOCAL_NOTEBOOK_NO_WAIT"  # "1": the cells' wait_for_completion returns at once


def _notebook() -> Path | None:
    """The notebook this kernel runs: named by amlocal, or by a Jupyter server (JPY_SESSION_NAME)."""
    name = os.environ.get(ENV_NOTEBOOK) or os.environ.get("JPY_SESSION_NAME")
    if not name or not name.endswith(".ipynb"):
        return None
    return Path(name).resolve()


def _put_compat_first() -> None:
    sys.path.insert(0, str(COMPAT_DIR))
    for name in [m for m in sys.modules if m == "azureml" or m.startswith("azureml.")]:
        del sys.modules[name]


def write_record(record: Path, scope: SubmissionScope) -> None:
    """The ids of the runs submitted so far, one a line."""
    record.write_text("".join(f"{s.run_id}\n" for s in scope.submitted))


class _QuietAboutLoopback(logging.Filter):
    """Drops ipykernel's warning that its TCP sockets are unencrypted: they listen on
    127.0.0.1 only, as every local Jupyter kernel's do."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without encryption" not in record.getMessage()


def main(argv: list[str] | None = None) -> None:
    """Start the kernel; returns when Jupyter shuts it down."""
    _put_compat_first()
    defaults = ScopeDefaults(script=_notebook(), executor=os.environ.get(ENV_EXECUTOR) or None,
                             no_wait=os.environ.get(ENV_NO_WAIT) == "1")
    record = os.environ.get(ENV_RECORD)
    # The scope is opened before the kernel's event loop starts, so every cell sees it.
    with submission_scope(defaults) as scope:
        from ipykernel.kernelapp import IPKernelApp
        logging.getLogger(IPKernelApp.__name__).addFilter(_QuietAboutLoopback())
        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:] if argv is None else argv)
        if record:
            app.shell.events.register("post_run_cell", lambda _result: write_record(Path(record), scope))
        app.start()


if __name__ == "__main__":
    main()
