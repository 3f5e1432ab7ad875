"""One ParallelRunStep worker process: the entry script's `init()` once, then `run(mini_batch)`
for each mini-batch the driver sends. Standard library only (it runs in bare containers).

Messages to the driver, over a `multiprocessing` pipe:
  ("ready",)                              init() returned
  ("fatal", message)                      the entry script cannot run at all (the step fails)
  ("done", index, rows, succeeded)        run() returned; `rows` are its append_row lines
  ("failed", index, summary, traceback)   run() raised or returned the wrong type
The driver sends (index, files, dataset, rows, partition) per mini-batch, and None to stop:
`rows` (row ranges) for a TabularDataset input, whose table the worker reads once, on its
first mini-batch (parallel_tabular.TableSlicer); run() then gets a pandas DataFrame.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import traceback
from typing import Any

from runner.step_runtime import parallel_entry
from runner.step_runtime.parallel_jobs import JobFailed
from runner.step_runtime.parallel_tabular import TableSlicer

WRONG_TYPE = ("run() returned {kind}; it must return a list (or a pandas DataFrame) with one "
              "element per item of the mini-batch it processed")


class MiniBatchContext:
    """What `run(mini_batch, mini_batch_context)` gets: the mini-batch's index, the dataset it
    came from, and with partition_keys its partition ({key: value}; None without)."""

    def __init__(self, minibatch_index: int, dataset: str,
                 partition_key_value: dict | None = None) -> None:
        self.minibatch_index = minibatch_index
        self.dataset = dataset
        self.partition_key_value = partition_key_value


def result_rows(result: Any) -> list[str]:
    """`run()`'s result as append_row lines, Azure's format: a list's element is a line (a
    list or tuple element's values joined by spaces); a DataFrame's rows are joined by
    spaces. Anything else is a TypeError."""
    if hasattr(result, "to_csv") and hasattr(result, "columns"):
        text = result.to_csv(sep=" ", header=False, index=False)
        return text.splitlines()
    if not isinstance(result, (list, tuple)):
        raise TypeError(WRONG_TYPE.format(kind=type(result).__name__))
    rows = []
    for element in result:
        if isinstance(element, (list, tuple)):
            rows.append(" ".join(str(v) for v in element))
        else:
            rows.append(str(element))
    return [line for row in rows for line in (row.splitlines() or [""])]


def _redirect(stdout_path: str, stderr_path: str) -> None:
    """Send this process's stdout and stderr to its own files (Azure's logs/user/stdout)."""
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(handle, fd)
        os.close(handle)


def _load(script: str) -> Any:
    """The entry script as a module (its folder first on sys.path, as Azure has it)."""
    folder = os.path.dirname(os.path.abspath(script))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(script))[0]
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _takes_context(run: Any) -> bool:
    try:
        parameters = inspect.signature(run).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


def worker_main(conn: Any, settings: dict) -> None:
    """Run the worker described by `settings` until the driver sends None."""
    _redirect(settings["stdout"], settings["stderr"])
    parallel_entry.configure(settings["entry_log"], settings["logging_level"],
                             settings["process_name"])
    sys.argv = [settings["entry_script"], *settings["argv"]]
    script = settings["entry_name"]
    try:
        module = _load(settings["entry_script"])
    except BaseException as exc:  # the user's module: anything it raises is its error
        traceback.print_exc()
        conn.send(("fatal", f"the entry script {script} failed to load: "
                            f"{type(exc).__name__}: {exc}"))
        return
    run = getattr(module, "run", None)
    if not callable(run):
        conn.send(("fatal", f"the entry script {script} has no run() function (ParallelRunStep "
                            "calls init() once, then run(mini_batch) per mini-batch)"))
        return
    init = getattr(module, "init", None)
    if callable(init):
        try:
            init()
        except BaseException as exc:
            traceback.print_exc()
            conn.send(("fatal", f"init() of the entry script {script} raised "
                                f"{type(exc).__name__}: {exc}"))
            return
    with_context = _takes_context(run)
    tables = TableSlicer()
    conn.send(("ready",))
    while True:
        task = conn.recv()
        if task is None:
            return
        index, files, dataset, ranges, partition = task
        if ranges is None:
            mini_batch, count = list(files), len(files)
        else:
            try:
                mini_batch = tables.mini_batch(dataset, ranges)
            except Exception as exc:  # the table cannot be read: no mini-batch can run
                text = str(exc) if isinstance(exc, JobFailed) else f"{type(exc).__name__}: {exc}"
                conn.send(("fatal", f"reading the TabularDataset input {dataset} failed: {text}"))
                return
            count = len(mini_batch)
        try:
            if with_context:
                result = run(mini_batch, MiniBatchContext(index, dataset, partition))
            else:
                result = run(mini_batch)
            rows = result_rows(result)
            succeeded = min(len(result), count)
        except BaseException as exc:
            text = traceback.format_exc()
            print(text, file=sys.stderr, flush=True)
            conn.send(("failed", index, f"{type(exc).__name__}: {exc}", text))
            continue
        sys.stdout.flush()
        conn.send(("done", index, rows, succeeded))
