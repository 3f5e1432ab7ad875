"""How a ParallelRunStep cuts a TabularDataset into mini-batches, and how a worker gets them.

As Azure does it, `mini_batch_size` is a size of data for a TabularDataset ("1MB" by
default, "10KB", "1GB", or a number of bytes): amlocal reads the table once in the driver,
takes the input files' total bytes over the table's rows as the size of a row, and gives
each mini-batch that many bytes' worth of rows, as a (start row, end row) range. A worker
reads the table once (after `init()`) and hands `run()` the slice of each of its
mini-batches as a pandas DataFrame (its index from 0, as Azure reads each mini-batch
alone). Standard library only: pandas is imported by the dataset, when a table is read.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

from runner.step_runtime import contract
from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.parallel_jobs import JobFailed, MiniBatch

SIZE_RULE = r"^\d+([kKmMgG][bB])*$"
SIZE_ERROR = r"Parameter mini_batch_size must follow regex rule ^\d+([kKmMgG][bB])*$."
_SIZE = re.compile(SIZE_RULE)
_UNITS = {"kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}
DEFAULT_TABULAR_SIZE = 1024 * 1024


def mini_batch_size_to_int(text: str) -> int:
    """"5" → 5, "1KB" → 1024, "10MB" → 10 MiB, "1GB" → 1 GiB (the SDK's rule and message,
    ValueError when `text` does not follow it)."""
    if not isinstance(text, str) or not _SIZE.match(text):
        raise ValueError(SIZE_ERROR)
    if text.isdigit():
        return int(text)
    number = text[:-2]
    if not number.isdigit():  # "1KBMB" passes the SDK's regex but is no size
        raise ValueError(SIZE_ERROR)
    return int(number) * _UNITS[text[-2:].lower()]


def driver_size(text: str, input_type: str) -> int:
    """The driver's `--mini_batch_size` (a parameter's value may still be "10KB") as a number
    of files or of bytes; JobFailed says what it should be."""
    try:
        size = mini_batch_size_to_int(text)
    except ValueError:
        size = 0
    if size >= 1:
        return size
    if input_type == "tabular":
        raise JobFailed(f"mini_batch_size {text!r} is not a size (a TabularDataset input is split "
                        "into mini-batches of about that much data: '1MB', '10KB', '1GB' or a "
                        "number of bytes)")
    raise JobFailed(f"mini_batch_size {text!r} is not a number of files (a FileDataset input is "
                    "split into mini-batches of that many files)")


def input_dataset(name: str) -> Any:
    """The dataset object of the step's input `name` (what the runner wrote for it in the
    step's registry view); JobFailed when there is none."""
    from runner.step_runtime.experiment_ref import StepWorkspace
    from runner.step_runtime.registry_view import step_registry
    dataset = step_registry().input_dataset(name, StepWorkspace.from_environment())
    if dataset is None:
        raise JobFailed(f"input {name} has no dataset definition in this step (it must be a "
                        "dataset consumed directly: dataset.as_named_input(name))")
    return dataset


def read_table(name: str, dataset: Any) -> Any:
    """The whole table of input `name`; a read that cannot be done (no pandas in this
    environment, a bad file) is JobFailed with the dataset's one line."""
    try:
        return dataset.to_pandas_dataframe()
    except UserErrorException as exc:
        raise JobFailed(str(exc)) from None


def file_bytes(dataset: Any) -> int:
    """The total size of the files the dataset reads."""
    return sum(os.lstat(f.local_path).st_size for f in dataset._listed_files())


def rows_per_batch(size: int, total_bytes: int, rows: int) -> int:
    """How many rows make about `size` bytes, a row being `total_bytes / rows` (at least 1)."""
    if rows <= 0 or total_bytes <= 0:
        return max(rows, 1)
    return max(1, int(size * rows // total_bytes))


def slice_rows(table: Any, rows: tuple[tuple[int, int], ...]) -> Any:
    """The rows of `table` in the `rows` ranges, as one DataFrame indexed from 0."""
    if len(rows) == 1:
        start, end = rows[0]
        part = table.iloc[start:end]
    else:
        import pandas as pd
        part = pd.concat([table.iloc[start:end] for start, end in rows])
    return part.reset_index(drop=True)


def rows_digest(table: Any, rows: tuple[tuple[int, int], ...]) -> str:
    """sha256 of the columns, types and values of those rows: what a mini-batch's kept result
    is keyed by, so rows that did not change keep their results wherever they now are."""
    part = slice_rows(table, rows)
    digest = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in part.dtypes.items()]).encode())
    try:
        import pandas as pd
        digest.update(pd.util.hash_pandas_object(part, index=False).values.tobytes())
    except (TypeError, ValueError):  # values pandas cannot hash (lists from JSON lines)
        digest.update(part.to_csv(index=False).encode())
    return digest.hexdigest()


def keeps_results() -> bool:
    """Whether this step keeps mini-batch results (the engine gave it a cache folder)."""
    return bool(os.environ.get(contract.PARALLEL_CACHE))


def table_batches(name: str, size: int, first: int) -> tuple[list[MiniBatch], str]:
    """Input `name`'s rows cut into ranges of about `size` bytes, numbered from `first`, and
    a line for the log saying how."""
    dataset = input_dataset(name)
    frame = read_table(name, dataset)
    rows, total = len(frame), file_bytes(dataset)
    step = rows_per_batch(size, total, rows)
    keep = keeps_results()
    batches = []
    for n, start in enumerate(range(0, rows, step)):
        ranges = ((start, min(start + step, rows)),)
        batches.append(MiniBatch(first + n, name, rows=ranges,
                                 content=rows_digest(frame, ranges) if keep else None))
    del frame
    return batches, (f"input {name}: {rows} rows in {total} bytes of files: mini-batches of "
                     f"{step} rows (about {size} bytes each)")


class TableSlicer:
    """A worker's tables: each input read once, on its first mini-batch (after init())."""

    def __init__(self) -> None:
        self._tables: dict[str, Any] = {}

    def mini_batch(self, name: str, rows: tuple[tuple[int, int], ...]) -> Any:
        """The DataFrame of `rows` (row ranges) of input `name`, indexed from 0."""
        if name not in self._tables:
            self._tables[name] = read_table(name, input_dataset(name))
        return slice_rows(self._tables[name], rows)
