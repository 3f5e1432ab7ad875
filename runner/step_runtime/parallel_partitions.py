"""`partition_keys`: one mini-batch per distinct combination of the keys' values, as Azure
makes them from datasets with a `partition_format`.

A FileDataset's mini-batch is the files of one partition; a TabularDataset's is the rows of
one partition (as row ranges of the table, one range per run of rows, so a worker slices the
table it read once). `mini_batch_context.partition_key_value` is `{key: value}` (a string,
or a datetime for a `{key:yyyy/MM/dd}` column). Every input must be partitioned by all the
keys. Standard library only (the table is read by the dataset, with pandas).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from runner.step_runtime.parallel_jobs import JobFailed, MiniBatch
from runner.step_runtime.parallel_tabular import (input_dataset, keeps_results, read_table,
                                                  rows_digest)


def parse_keys(text: str) -> list[str]:
    """`--partition_keys` (the JSON dump of a list of str, as the SDK passes it)."""
    try:
        keys = json.loads(text)
    except ValueError:
        keys = None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise JobFailed(f"partition_keys {text!r} is not the JSON dump of a non-empty list of str "
                        "(json.dumps(['key1', 'key2']))")
    return keys


def not_partitioned(name: str, keys: list[str], have: list[str]) -> str:
    """The message for an input that lacks some of the keys."""
    missing = [k for k in keys if k not in have]
    return (f"partition_keys {', '.join(missing)} not found in input dataset {name} (its "
            f"partition keys: {', '.join(have) or 'none, it has no partition_format'}); "
            "partition_keys must be a subset of the keys of every input dataset")


def _check(name: str, dataset: Any, keys: list[str]) -> None:
    have = list(dataset.partition_keys)
    if any(k not in have for k in keys):
        raise JobFailed(not_partitioned(name, keys, have))


def plain(value: Any) -> Any:
    """A partition value as run() gets it: str, datetime or None (not pandas' types)."""
    if value is None or isinstance(value, (str, dt.datetime)):
        return value
    if hasattr(value, "to_pydatetime"):
        try:
            return None if value != value else value.to_pydatetime()  # NaT
        except (TypeError, ValueError):
            return None
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") else value


def _key(value: dict) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def file_partition_batches(name: str, keys: list[str], first: int) -> tuple[list[MiniBatch], str]:
    """One mini-batch of files per partition of FileDataset input `name`."""
    dataset = input_dataset(name)
    _check(name, dataset, keys)
    groups: dict[str, tuple[dict, list[str]]] = {}
    for item in dataset._selected_files():
        value = {k: plain(item.partition_values.get(k)) for k in keys}
        groups.setdefault(_key(value), (value, []))[1].append(str(item.local_path))
    batches = [MiniBatch(first + n, name, files=tuple(files), partition=value)
               for n, (value, files) in enumerate(groups.values())]
    files = sum(len(b.files) for b in batches)
    return batches, (f"input {name}: {len(batches)} partitions by {', '.join(keys)} "
                     f"({files} files)")


def table_partition_batches(name: str, keys: list[str], first: int) -> tuple[list[MiniBatch], str]:
    """One mini-batch of rows per partition of TabularDataset input `name`, in the order the
    partitions first appear in the table."""
    dataset = input_dataset(name)
    _check(name, dataset, keys)
    frame = read_table(name, dataset)
    absent = [k for k in keys if k not in frame.columns]
    if absent:
        raise JobFailed(f"input {name}: the table has no column {', '.join(absent)} (a "
                        "partition key; keep_columns or drop_columns removed it)")
    groups: dict[str, tuple[dict, list[list[int]]]] = {}
    for position, values in enumerate(frame[keys].itertuples(index=False, name=None)):
        value = {k: plain(v) for k, v in zip(keys, values)}
        runs = groups.setdefault(_key(value), (value, []))[1]
        if runs and runs[-1][1] == position:
            runs[-1][1] = position + 1
        else:
            runs.append([position, position + 1])
    rows, keep = len(frame), keeps_results()
    batches = []
    for n, (value, runs) in enumerate(groups.values()):
        ranges = tuple((s, e) for s, e in runs)
        batches.append(MiniBatch(first + n, name, rows=ranges, partition=value,
                                 content=rows_digest(frame, ranges) if keep else None))
    del frame
    return batches, f"input {name}: {len(batches)} partitions by {', '.join(keys)} ({rows} rows)"
