"""TabularDataset: delimited, Parquet or JSON-lines files read as one table, with lazy
column, row and time transformations (`azureml.data.TabularDataset`).

Reading needs pandas (and pyarrow for Parquet), as the SDK needs azureml-dataprep: only where
a table is asked for (`to_pandas_dataframe`, `to_csv_files`, …), never to build, register or
pass a dataset to a step. The reading itself is `tabular_read`. Standard library only.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any

from runner.step_runtime.dataset_core import AbstractDataset, check_count, check_probability
from runner.step_runtime.exceptions import UserErrorException


def _iso(value: Any, what: str) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day).isoformat()
    raise UserErrorException(f"{what} must be a datetime, not {value!r}")


def _columns(columns: Any, call: str) -> list[str]:
    items = [columns] if isinstance(columns, str) else list(columns or [])
    if not items or not all(isinstance(c, str) for c in items):
        raise UserErrorException(f"{call} takes a column name or a list of column names, "
                                 f"not {columns!r}")
    return items


class TabularDataset(AbstractDataset):
    """Rows and columns read from files on datastore paths."""

    _KIND = "tabular"

    # ----------------------------------------------------------------- reading
    def _frame(self, call: str) -> Any:
        from runner.step_runtime.tabular_read import TabularFile, read_dataframe
        files = [TabularFile(str(f.local_path), f.path, dict(f.partition_values))
                 for f in self._selected_files()]
        return read_dataframe(files, dict(self._definition.get("read") or {}),
                              list(self._definition.get("transforms", [])), call=call)

    def to_pandas_dataframe(self, on_error: str = "null",
                            out_of_range_datetime: str = "null") -> Any:
        """The whole table as a pandas DataFrame."""
        if on_error not in ("null", "fail") or out_of_range_datetime not in ("null", "fail"):
            raise UserErrorException("on_error and out_of_range_datetime take 'null' or 'fail'")
        return self._frame("to_pandas_dataframe")

    def to_csv_files(self, separator: str = ",") -> Any:
        """A FileDataset of CSV files holding this table."""
        from runner.step_runtime.tabular_read import write_csv_files
        folder = tempfile.mkdtemp(prefix="amlocal-csv-")
        write_csv_files(self._frame("to_csv_files"), folder, separator)
        return self._file_dataset_over(folder)

    def to_parquet_files(self) -> Any:
        """A FileDataset of Parquet files holding this table."""
        from runner.step_runtime.tabular_read import write_parquet_files
        folder = tempfile.mkdtemp(prefix="amlocal-parquet-")
        write_parquet_files(self._frame("to_parquet_files"), folder)
        return self._file_dataset_over(folder)

    def _file_dataset_over(self, folder: str) -> Any:
        return self._workspace._registry().dataset_class("file")._from_definition(
            {"kind": "file", "sources": [{"folder": folder, "path": ""}], "partition_format": None,
             "filter": None, "transforms": []}, self._workspace)

    def to_spark_dataframe(self) -> Any:
        raise UserErrorException("to_spark_dataframe needs a Spark cluster, which amlocal does "
                                 "not have; use to_pandas_dataframe()")

    def to_dask_dataframe(self, sample_size: int = 10000, dtypes: Any = None,
                          on_error: str = "null", out_of_range_datetime: str = "null") -> Any:
        """The table as a dask DataFrame (one partition), when dask is installed."""
        try:
            import dask.dataframe as dd
        except ImportError:
            raise UserErrorException("to_dask_dataframe needs dask: add dask[dataframe] to this "
                                     "environment, or use to_pandas_dataframe()") from None
        return dd.from_pandas(self._frame("to_dask_dataframe"), npartitions=1)

    # ----------------------------------------------------------------- columns and rows
    def keep_columns(self, columns: Any, validate: bool = False) -> "TabularDataset":
        """Only `columns` (a name or a list of names)."""
        return self._derive({"op": "keep_columns", "columns": _columns(columns, "keep_columns"),
                             "validate": bool(validate)})

    def drop_columns(self, columns: Any) -> "TabularDataset":
        """All but `columns`."""
        return self._derive({"op": "drop_columns", "columns": _columns(columns, "drop_columns")})

    def take(self, count: int) -> "TabularDataset":
        """The first `count` rows."""
        return self._derive({"op": "take", "count": check_count(count, "count")})

    def skip(self, count: int) -> "TabularDataset":
        """All but the first `count` rows."""
        return self._derive({"op": "skip", "count": check_count(count, "count")})

    def take_sample(self, probability: float, seed: int | None = None) -> "TabularDataset":
        """Each row kept with `probability` (the same rows for the same seed)."""
        return self._derive({"op": "take_sample", "seed": seed,
                             "probability": check_probability(probability, "probability")})

    def random_split(self, percentage: float, seed: int | None = None
                     ) -> tuple["TabularDataset", "TabularDataset"]:
        """Two datasets: about `percentage` of the rows, and the rest (never overlapping)."""
        p = check_probability(percentage, "percentage")
        if seed is None:
            import random
            seed = random.randrange(2 ** 31)
        return (self._derive({"op": "random_split", "percentage": p, "seed": seed, "side": 0}),
                self._derive({"op": "random_split", "percentage": p, "seed": seed, "side": 1}))

    def filter(self, expression: Any) -> "TabularDataset":
        raise UserErrorException("amlocal does not provide TabularDataset.filter yet: read the "
                                 "table with to_pandas_dataframe() and filter the DataFrame")

    # ----------------------------------------------------------------- time
    @property
    def timestamp_columns(self) -> tuple[str | None, str | None]:
        """(timestamp, partition_timestamp) set by with_timestamp_columns."""
        stamp = self._definition.get("timestamp") or {}
        return stamp.get("fine"), stamp.get("coarse")

    def with_timestamp_columns(self, timestamp: str | None = None,
                               partition_timestamp: str | None = None, validate: bool = False,
                               **kwargs: Any) -> "TabularDataset":
        """The columns time_before/after/between/recent filter on (None clears them)."""
        timestamp = kwargs.get("fine_grain_timestamp", timestamp)
        partition_timestamp = kwargs.get("coarse_grain_timestamp", partition_timestamp)
        if partition_timestamp is not None and timestamp is None:
            raise UserErrorException("partition_timestamp needs timestamp to be set too")
        if timestamp is not None and timestamp == partition_timestamp:
            raise UserErrorException("timestamp and partition_timestamp must be different columns")
        return self._derive(timestamp={"fine": timestamp, "coarse": partition_timestamp}
                            if timestamp else None)

    def _time(self, op: str, **bounds: Any) -> "TabularDataset":
        column = self.timestamp_columns[0]
        if column is None:
            raise UserErrorException(f"{op} needs a timestamp column: call "
                                     "with_timestamp_columns(timestamp='column') first")
        return self._derive({"op": op, "column": column, **bounds})

    def time_before(self, end_time: Any, include_boundary: bool = True,
                    validate: bool = True) -> "TabularDataset":
        """Rows whose timestamp is before `end_time`."""
        return self._time("time_before", end=_iso(end_time, "end_time"),
                          include_boundary=bool(include_boundary))

    def time_after(self, start_time: Any, include_boundary: bool = True,
                   validate: bool = True) -> "TabularDataset":
        """Rows whose timestamp is after `start_time`."""
        return self._time("time_after", start=_iso(start_time, "start_time"),
                          include_boundary=bool(include_boundary))

    def time_between(self, start_time: Any, end_time: Any, include_boundary: bool = True,
                     validate: bool = True) -> "TabularDataset":
        """Rows whose timestamp is between `start_time` and `end_time`."""
        return self._time("time_between", start=_iso(start_time, "start_time"),
                          end=_iso(end_time, "end_time"), include_boundary=bool(include_boundary))

    def time_recent(self, time_delta: dt.timedelta, include_boundary: bool = True,
                    validate: bool = True) -> "TabularDataset":
        """Rows whose timestamp is within `time_delta` of now."""
        if not isinstance(time_delta, dt.timedelta):
            raise UserErrorException(f"time_delta must be a datetime.timedelta, not {time_delta!r}")
        return self._time("time_recent", seconds=time_delta.total_seconds(),
                          include_boundary=bool(include_boundary))

    def as_named_input(self, name: str) -> Any:
        """Step inputs are declared in the pipeline script, not inside a step."""
        raise UserErrorException("as_named_input declares a step input: call it in the "
                                 "pipeline script, not inside a step")
