"""`amlocal run NOTEBOOK.ipynb`: execute a notebook's code cells in order in amlocal's kernel.

The kernel (`runner.notebook.kernel`) is another process; it gets the notebook, the executor
and a record file in its environment, and writes there the ids of the runs the notebook
submitted. The executed notebook, with its outputs, is saved in the workspace's `notebooks/`
folder (not beside the source, where it would change a step's snapshot), even when a cell
raises.
"""
from __future__ import annotations

import atexit
import datetime as dt
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from runner.errors import RunnerError
from runner.notebook import kernel
from runner.notebook.kernelspecs import kernel_json
from runner.paths import PACKAGE_PARENT

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")


class NotebookError(RunnerError):
    """A notebook that could not run to its end; the message names the cell and the error.

    `user_traceback` is the cell's traceback as IPython printed it (without colours), for
    `amlocal run --traceback`; `saved` is the executed notebook, when it was written.
    """

    def __init__(self, message: str, user_traceback: str = "", saved: Path | None = None) -> None:
        super().__init__(message)
        self.user_traceback = user_traceback
        self.saved = saved


@dataclass(frozen=True)
class NotebookResult:
    """What running a notebook left: the runs it submitted, and the executed notebook."""

    run_ids: list[str]
    saved: Path


@dataclass
class _CellFailure:
    code_cell: int
    ename: str
    evalue: str
    traceback: str

    def line(self) -> int | None:
        """The line of the innermost frame in the cell's own code, as IPython numbers it."""
        found = _CELL_LINE.findall(self.traceback)
        return int(found[-1]) if found else None


def _kernel_manager_class() -> type:
    """An AsyncKernelManager that starts amlocal's kernel whatever the notebook names
    (`python3-azureml`, `python3`, …), so no kernelspec needs to be installed."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class AmlocalSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir="", **kernel_json("amlocal"))

    class AmlocalKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return AmlocalSpecs()

    return AmlocalKernelManager


def saved_notebook_path(notebooks_dir: Path, notebook: Path) -> Path:
    """Where an execution of `notebook` started now is saved: `NAME-YYYYmmdd-HHMMSS.ipynb`."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = notebooks_dir / f"{notebook.stem}-{stamp}.ipynb"
    n = 1
    while path.exists():
        n += 1
        path = notebooks_dir / f"{notebook.stem}-{stamp}-{n}.ipynb"
    return path


def _echo(cell: Any, **_: Any) -> None:
    """Print what a cell wrote and the plain text of its result, as a terminal IPython would
    (rich displays, such as RunDetails' table, stay in the saved notebook)."""
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            stream = sys.stderr if output.get("name") == "stderr" else sys.stdout
            stream.write(output.get("text", ""))
        elif kind == "execute_result" and "text/plain" in output.get("data", {}):
            print(output["data"]["text/plain"])
    sys.stdout.flush()


def execute_notebook(notebook: Path, workspace_root: Path, notebooks_dir: Path,
                     executor: str | None = None,
                     echo: Callable[..., None] | None = _echo,
                     no_wait: bool = False) -> NotebookResult:
    """Run the code cells of `notebook` in order in a fresh amlocal kernel started in the
    notebook's folder; save the executed notebook under `notebooks_dir`. With `no_wait`
    the cells' `wait_for_completion` calls return at once (`amlocal run --no-wait`).

    Raises FileNotFoundError for a missing notebook, NotebookError for one that is not a
    notebook or whose cell raised (the notebook is saved first, with the cells run so far).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = Path(notebook).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:
        raise NotebookError(f"{notebook.name} is not a Jupyter notebook: {exc}") from exc
    failure: list[_CellFailure] = []

    def on_cell_error(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        content = execute_reply["content"]
        text = _ANSI.sub("", "\n".join(content.get("traceback", [])))
        failure.append(_CellFailure(cell.get("execution_count") or 0, content.get("ename", "Error"),
                                    content.get("evalue", ""), text))

    client = NotebookClient(nb, kernel_manager_class=_kernel_manager_class(),
                            resources={"metadata": {"path": str(notebook.parent)}},
                            on_cell_error=on_cell_error, on_cell_executed=echo)
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    saved = saved_notebook_path(notebooks_dir, notebook)
    with tempfile.TemporaryDirectory(prefix="amlocal-notebook-") as scratch:
        record = Path(scratch) / "submitted"
        env = {**os.environ, "AMLOCAL_HOME": str(workspace_root), kernel.ENV_NOTEBOOK: str(notebook),
               kernel.ENV_EXECUTOR: executor or "", kernel.ENV_NO_WAIT: "1" if no_wait else "",
               kernel.ENV_RECORD: str(record),
               "PYTHONPATH": os.pathsep.join(p for p in (str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")) if p)}
        error: Exception | None = None
        try:
            client.execute(env=env)
        except CellExecutionError as exc:
            error = exc
        except Exception as exc:  # the kernel died or would not start
            atexit.unregister(client._cleanup_kernel)  # nbclient leaves it when a start fails
            error = NotebookError(f"{notebook.name}: the kernel stopped: {type(exc).__name__}: {exc}")
        run_ids = record.read_text().split() if record.exists() else []
    nbformat.write(nb, saved)
    if isinstance(error, NotebookError):
        error.saved = saved
        raise error
    if error is not None:
        cell = failure[-1] if failure else _CellFailure(0, type(error).__name__, str(error), "")
        where = f"cell {cell.code_cell}" + (f", line {cell.line()}" if cell.line() else "")
        message = cell.evalue.strip() or "(no message)"
        raise NotebookError(f"{notebook.name} {where}: {cell.ename}: {message}",
                            cell.traceback.strip() + "\n", saved) from error
    return NotebookResult(run_ids, saved)
