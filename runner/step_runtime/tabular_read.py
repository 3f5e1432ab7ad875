"""The engine behind TabularDataset: reads delimited, parquet and JSON-lines files into one
pandas DataFrame the way azureml-dataprep does, then applies the dataset's transforms.

Everything it is given is JSON-able so it can travel in a spec or env file: `TabularFile`s
(where a file is now, its path below the dataset root, its partition values), the `read`
options of the SDK factory method (`from_delimited_files`, `from_parquet_files`,
`from_json_lines_files`) and the transforms (see `tabular_transforms`). `check_read_options`
is the build-time check. Standard library at module level: pandas and pyarrow are imported
inside the calls, which name the missing package in a one-line UserErrorException.
"""
from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass, field

from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.tabular_transforms import apply_transforms, check_transform
from runner.step_runtime.tabular_types import (DataType, all_dates, check_typespec,
                                               convert_column, date_candidates, infer_dates,
                                               is_text, numpy_module, require_pandas,
                                               require_pyarrow)

__all__ = ["TabularFile", "DataType", "read_dataframe", "write_csv_files", "write_parquet_files",
           "check_read_options", "check_transform", "header_mode"]

FORMATS = ("delimited", "parquet", "json_lines")
ENCODINGS = {"utf8": "utf-8", "iso88591": "iso-8859-1", "latin1": "latin-1", "ascii": "ascii",
             "utf16": "utf-16", "utf32": "utf-32", "utf8bom": "utf-8-sig",
             "windows1252": "cp1252"}
HEADERS = {"no_headers": 0, "from_first_file": 1, "combine_all_files_headers": 2,
           "all_files_different_headers": 2, "all_files_same_headers": 3}
_BOOLS = ("infer_column_types", "support_multi_line", "empty_as_string", "include_path")
ROWS_PER_FILE = 1_000_000


@dataclass(frozen=True)
class TabularFile:
    """One file of a TabularDataset: `local_path` is where to read it now, `path` its path below
    the dataset root with a leading '/' (the 'Path' column), `partition_values` the columns
    partition_format found in its path (name -> str or datetime.datetime)."""
    local_path: str
    path: str
    partition_values: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-able dict (a datetime partition value as {"datetime": ISO text})."""
        values = {name: {"datetime": v.isoformat()} if isinstance(v, datetime.datetime) else v
                  for name, v in self.partition_values.items()}
        return {"local_path": self.local_path, "path": self.path, "partition_values": values}

    @staticmethod
    def from_json(data: dict) -> "TabularFile":
        """The TabularFile of `to_json`'s dict (datetime values as datetime.datetime again)."""
        values = {name: datetime.datetime.fromisoformat(v["datetime"]) if isinstance(v, dict) else v
                  for name, v in (data.get("partition_values") or {}).items()}
        return TabularFile(data["local_path"], data["path"], values)


def header_mode(header: object) -> int:
    """The PromoteHeadersBehavior value (0 no headers, 1 only the first file has headers, 2 every
    file has its own, 3 all files have the same) of a `header` argument."""
    value = getattr(header, "value", header)
    if value is True or value is False:
        return 3 if value else 0
    if isinstance(value, int) and 0 <= value <= 3:
        return value
    if isinstance(value, str) and value.lower() in HEADERS:
        return HEADERS[value.lower()]
    raise UserErrorException(
        f"Invalid header {header!r}: expected True, False or a PromoteHeadersBehavior "
        f"(0-3 or one of {', '.join(HEADERS)})")


def _encoding(read: dict) -> str:
    name = read.get("encoding", "utf8")
    key = getattr(name, "value", name)
    if not isinstance(key, str) or key.lower().replace("-", "") not in ENCODINGS:
        raise UserErrorException(
            f"Invalid encoding {name!r}: expected one of {', '.join(ENCODINGS)}")
    return ENCODINGS[key.lower().replace("-", "")]


def check_read_options(read: dict) -> None:
    """UserErrorException (one line) unless `read` is a valid reader with valid options."""
    kind = read.get("format") if isinstance(read, dict) else None
    if kind not in FORMATS:
        raise UserErrorException(
            f"Unknown tabular format {kind!r}: expected one of {', '.join(FORMATS)}")
    for key in _BOOLS:
        if not isinstance(read.get(key, False), bool):
            raise UserErrorException(f"{key} must be True or False, got {read[key]!r}")
    types = read.get("set_column_types") or {}
    if not isinstance(types, dict):
        raise UserErrorException(
            f"set_column_types must be a dictionary of column name to DataType, got {types!r}")
    for column, spec in types.items():
        check_typespec(spec, column)
    partitions = read.get("partition_columns") or []
    if not isinstance(partitions, list) or not all(isinstance(p, str) for p in partitions):
        raise UserErrorException(f"partition_columns must be a list of names, got {partitions!r}")
    if kind == "delimited":
        separator = read.get("separator", ",")
        if not isinstance(separator, str) or not separator:
            raise UserErrorException(f"separator must be a non-empty string, got {separator!r}")
        header_mode(read.get("header", True))
        _encoding(read)
    elif kind == "json_lines":
        if read.get("invalid_lines", "error") not in ("error", "drop"):
            raise UserErrorException(
                f"Invalid invalid_lines {read['invalid_lines']!r}: expected 'error' or 'drop'")
        _encoding(read)


def _csv_one(pd, file: TabularFile, call: str, **kwargs):
    try:
        return pd.read_csv(file.local_path, **kwargs)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserErrorException(f"{call}: cannot read {file.path} as delimited text: {first}") from None


def row_limit(transforms: list[dict]) -> int | None:
    """How many rows from the start the leading take/skip transforms can look at (None: all),
    so a `take(5)` reads 5 rows and not the whole dataset."""
    offset, limit = 0, None
    for transform in transforms:
        if transform.get("op") == "skip":
            offset += transform["count"]
        elif transform.get("op") == "take":
            wanted = offset + transform["count"]
            limit = wanted if limit is None else min(limit, wanted)
        else:
            break
    return limit


def _read_delimited(pd, files: list[TabularFile], read: dict, call: str,
                    limit: int | None) -> list:
    separator = read.get("separator", ",")
    kwargs: dict = {"encoding": _encoding(read), "keep_default_na": False, "na_values": [""]}
    if len(separator) == 1:
        kwargs.update(sep=separator, engine="c")
    else:
        kwargs.update(sep=re.escape(separator), engine="python")
    typed = list(read.get("set_column_types") or {})
    mode = header_mode(read.get("header", True))
    if not read.get("infer_column_types", True):
        kwargs["dtype"] = str
    elif typed:  # read as text what set_column_types converts: '00123' stays '00123'
        kwargs["dtype"] = {(int(c[6:]) - 1 if mode == 0 and re.fullmatch(r"Column[1-9]\d*", c)
                            else c): str for c in typed}
    frames: list = []
    dates = _DatesOnTheSide(pd, typed) if read.get("infer_column_types", True) else None
    for i, file in enumerate(files):
        if limit is not None:
            if frames and limit <= 0:
                break
            kwargs["nrows"] = max(limit, 0)
        if mode == 0:
            frame = _csv_one(pd, file, call, header=None, **kwargs)
            frame.columns = [f"Column{n + 1}" for n in range(len(frame.columns))]
        elif i == 0 or mode == 2 or not len(frames[0].columns):
            frame = _csv_one(pd, file, call, header=0, **kwargs)
        else:
            names = list(frames[0].columns)
            frame = _csv_one(pd, file, call, header=0 if mode == 3 else None, names=names, **kwargs)
        frames.append(frame)
        if dates is not None:
            dates.submit(frame)
        limit = None if limit is None else limit - len(frame)
    if dates is not None:
        dates.finish(frames)
    return frames


class _DatesOnTheSide:
    """Parses the ISO date columns of each file in a thread while the next file is read
    (pyarrow's cast releases the GIL), so date inference adds little to a read. The columns
    come from the first file with rows; a column is converted in every frame or in none (the
    inference after the concatenation then looks at what is left)."""

    def __init__(self, pd, typed: list[str]) -> None:
        from concurrent.futures import ThreadPoolExecutor
        self.pd = pd
        self.typed = typed
        self.columns: list[str] | None = None
        self.pool = ThreadPoolExecutor(1)
        self.futures: list[dict] = []

    def submit(self, frame) -> None:
        if self.columns is None and len(frame):
            self.columns = date_candidates(self.pd, frame, self.typed)
        self.futures.append({name: self.pool.submit(all_dates, self.pd, frame[name])
                             for name in self.columns or [] if name in frame.columns
                             and is_text(self.pd, frame[name])})

    def finish(self, frames: list) -> None:
        try:
            results = [{name: f.result() for name, f in futures.items()} for futures in self.futures]
        finally:
            self.pool.shutdown()
        for name in self.columns or []:
            parsed = [r.get(name) for r in results]
            if all(p is not None or name not in frame.columns or frame[name].isna().all()
                   for p, frame in zip(parsed, frames)):
                for p, frame in zip(parsed, frames):
                    if p is not None:
                        frame[name] = p
                    elif name in frame.columns:  # no value at all in this file
                        frame[name] = self.pd.Series(self.pd.NaT, index=frame.index,
                                                     dtype="datetime64[ns]")


def _read_parquet(files: list[TabularFile], call: str, limit: int | None) -> list:
    parquet = require_pyarrow(call)
    frames: list = []
    for file in files:
        if frames and limit is not None and sum(map(len, frames)) >= limit:
            break
        try:
            table = parquet.ParquetFile(file.local_path).read()
        except (OSError, ValueError) as error:
            first = str(error).strip().splitlines()[0]
            raise UserErrorException(f"{call}: cannot read {file.path} as parquet: {first}") from None
        frames.append(table.to_pandas().reset_index(drop=True))
    return frames


def _read_json_lines(pd, files: list[TabularFile], read: dict, call: str,
                     limit: int | None) -> list:
    drop = read.get("invalid_lines", "error") == "drop"
    encoding = _encoding(read)
    frames: list = []
    for file in files:
        if frames and limit is not None and limit <= 0:
            break
        records: list = []
        with open(file.local_path, encoding=encoding) as fh:
            for number, line in enumerate(fh, 1):
                if limit is not None and len(records) >= limit:
                    break
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    if drop:
                        continue
                    raise UserErrorException(
                        f"{call}: line {number} of {file.path} is not a JSON object "
                        f"(invalid_lines='error'; pass invalid_lines='drop' to skip such lines)")
                records.append(record)
        frames.append(pd.DataFrame.from_records(records) if records else pd.DataFrame())
        limit = None if limit is None else limit - len(records)
    return frames


def _constant_column(pd, values: list, lengths: list[int], index):
    """One column (on `index`) holding values[i] on the lengths[i] rows of file i."""
    numpy = numpy_module()
    repeated = numpy.repeat(numpy.array(values, dtype=object), lengths)
    if values and all(isinstance(v, datetime.datetime) for v in values):
        return pd.Series(pd.to_datetime(repeated), index=index, dtype="datetime64[ns]")
    return pd.Series(repeated, index=index, dtype=object).infer_objects()


def _finish(pd, df, files: list[TabularFile], lengths: list[int], read: dict):
    """Partition columns, the Path column and set_column_types on the concatenated frame."""
    names = list(read.get("partition_columns") or [])
    for file in files:
        names += [n for n in file.partition_values if n not in names]
    for name in names:
        df[name] = _constant_column(pd, [f.partition_values.get(name) for f in files], lengths,
                                    df.index)
    if read.get("include_path", False):
        df.insert(0, "Path", _constant_column(pd, [f.path for f in files], lengths, df.index))
    for column, spec in (read.get("set_column_types") or {}).items():
        if column not in df.columns:
            raise UserErrorException(
                f"set_column_types: column '{column}' not found in the dataset; its columns are: "
                f"{', '.join(map(str, df.columns))}")
        df[column] = convert_column(pd, df[column], spec)
    for name in df.columns:
        dtype = df[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) and str(dtype) != "datetime64[ns]":
            df[name] = convert_column(pd, df[name], {"type": "datetime"})
    return df


def read_dataframe(files: list[TabularFile], read: dict, transforms: list[dict],
                   call: str = "to_pandas_dataframe"):
    """The rows of `files` (concatenated in order) as one pandas DataFrame, read with the
    `read` options and then `transforms`; `call` names the SDK call in error messages."""
    pd = require_pandas(call)
    check_read_options(read)
    for transform in transforms:
        check_transform(transform, None)
    files = [f if isinstance(f, TabularFile) else TabularFile.from_json(f) for f in files]
    kind, limit = read["format"], row_limit(transforms)
    if kind == "delimited":
        frames = _read_delimited(pd, files, read, call, limit)
    elif kind == "parquet":
        frames = _read_parquet(files, call, limit)
    else:
        frames = _read_json_lines(pd, files, read, call, limit)
    files = files[:len(frames)]
    lengths = [len(frame) for frame in frames]
    if len(frames) == 1:
        df = frames[0]
    else:
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if kind == "delimited":
        if read.get("infer_column_types", True):
            infer_dates(pd, df, list(read.get("set_column_types") or {}))
        if read.get("empty_as_string", False):
            for name in df.columns:
                column = df[name]
                if is_text(pd, column):
                    df[name] = column.fillna("")
                elif column.dtype == "float64" and len(column) and column.isna().all():
                    df[name] = pd.Series([""] * len(column), index=df.index, dtype=str)
    df = _finish(pd, df, files, lengths, read)
    return apply_transforms(pd, df, transforms)


def _chunks(df):
    return [df.iloc[i:i + ROWS_PER_FILE] for i in range(0, len(df), ROWS_PER_FILE)] or [df]


def write_csv_files(df, folder: str, separator: str = ",") -> list[str]:
    """`df` written into `folder` as part-00000.csv, part-00001.csv... (a header line each,
    nulls as empty fields) for `to_csv_files`; returns the files' paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, chunk in enumerate(_chunks(df)):
        path = os.path.join(folder, f"part-{i:05d}.csv")
        chunk.to_csv(path, sep=separator, index=False)
        paths.append(path)
    return paths


def write_parquet_files(df, folder: str) -> list[str]:
    """`df` written into `folder` as part-00000.parquet... for `to_parquet_files`; returns the
    files' paths."""
    require_pyarrow("to_parquet_files")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, chunk in enumerate(_chunks(df)):
        path = os.path.join(folder, f"part-{i:05d}.parquet")
        chunk.to_parquet(path, engine="pyarrow", index=False)
        paths.append(path)
    return paths
