"""Partition columns of datastore files, as the SDK's `partition_format` defines them, and
the filters a FileDataset applies to them (standard library only: steps list dataset files too).

A format such as `/{country}/{PartitionDate:yyyy/MM/dd}/*.csv` is matched against the end of
each file's datastore path: `{name}` is a string column (one path segment), `{name:yyyy/MM/dd}`
a datetime column (yyyy, MM, dd, HH, mm, ss), `*` any run of characters within a segment.
Every file also has the column `Path` (its path below the dataset's root, with a leading
`/`). A filter is JSON: `{"op": "==", "column": c, "value": v}` (and `!=`, `<`, `<=`, `>`,
`>=`, `starts_with`, `ends_with`, `contains`), `{"op": "and"|"or", "args": [...]}`,
`{"op": "not", "arg": ...}`; a datetime value is `{"datetime": ISO text}`.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.step_runtime.exceptions import UserErrorException

_DATE_PARTS = {"yyyy": r"\d{4}", "MM": r"\d{2}", "dd": r"\d{2}", "HH": r"\d{2}", "mm": r"\d{2}",
               "ss": r"\d{2}"}
_DATE_FIELDS = {"yyyy": "year", "MM": "month", "dd": "day", "HH": "hour", "mm": "minute",
                "ss": "second"}
_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
            "starts_with": lambda a, b: a.startswith(b), "ends_with": lambda a, b: a.endswith(b),
            "contains": lambda a, b: b in a}
PATH_COLUMN = "Path"
# The file metadata a filter can test (`FileDataset.file_metadata(col)`), as the SDK names it.
METADATA_COLUMNS = ("Size", "LastModifiedTime", "CreationTime", "Extension", "CanSeek")


def file_metadata(path: Path) -> dict[str, Any]:
    """The metadata columns of the file at `path` (not following a link)."""
    info = os.lstat(path)
    return {"Size": info.st_size,
            "LastModifiedTime": dt.datetime.fromtimestamp(info.st_mtime, dt.timezone.utc).replace(tzinfo=None),
            "CreationTime": dt.datetime.fromtimestamp(info.st_ctime, dt.timezone.utc).replace(tzinfo=None),
            "Extension": path.suffix.lstrip("."), "CanSeek": True}


class PartitionFormatError(UserErrorException, ValueError):
    """A partition_format the SDK would not accept, or a filter on a column it lacks."""


@dataclass(frozen=True)
class PartitionFormat:
    """A parsed `partition_format`: its columns and the pattern file paths are matched with."""

    text: str
    columns: tuple[str, ...]
    datetime_columns: tuple[str, ...]
    pattern: re.Pattern

    @staticmethod
    def parse(text: str) -> "PartitionFormat":
        """Parse `text`; PartitionFormatError names what is wrong with it."""
        if not isinstance(text, str) or "{" not in text:
            raise PartitionFormatError(f"partition_format {text!r} has no {{column}} part")
        regex, columns, dates, pos = "", [], [], 0
        for match in re.finditer(r"\{([^{}:]+)(?::([^{}]+))?\}|\*", text):
            regex += re.escape(text[pos:match.start()])
            pos = match.end()
            if match.group(0) == "*":
                regex += r"[^/]*"
                continue
            name, date_format = match.group(1).strip(), match.group(2)
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in columns:
                raise PartitionFormatError(f"partition_format {text!r}: column {name!r} is not a "
                                           "valid name or appears twice")
            columns.append(name)
            if date_format is None:
                regex += f"(?P<{name}>[^/]+)"
            else:
                dates.append(name)
                regex += f"(?P<{name}>{_date_regex(text, name, date_format)})"
        regex += re.escape(text[pos:])
        body = regex[2:] if regex.startswith(r"\/") else regex.lstrip("/")
        return PartitionFormat(text, tuple(columns), tuple(dates),
                               re.compile(r"(?:^|/)" + body + r"$"))

    def values(self, path: str) -> dict[str, Any] | None:
        """The partition columns of the file at datastore path `path`; None if it does not match."""
        match = self.pattern.search(path)
        if match is None:
            return None
        out: dict[str, Any] = {}
        for name in self.columns:
            if name in self.datetime_columns:
                fields = {field: int(match.group(f"{name}__{field}"))
                          for field in _DATE_FIELDS.values()
                          if f"{name}__{field}" in self.pattern.groupindex}
                try:
                    out[name] = dt.datetime(fields.get("year", 1), fields.get("month", 1),
                                            fields.get("day", 1), fields.get("hour", 0),
                                            fields.get("minute", 0), fields.get("second", 0))
                except ValueError:
                    out[name] = None  # e.g. month 13: no date, as dataprep gives an error value
            else:
                out[name] = match.group(name)
        return out


def _date_regex(text: str, name: str, date_format: str) -> str:
    """The pattern of a datetime column: one named group per date field it holds."""
    pieces = re.split(r"(yyyy|MM|dd|HH|mm|ss)", date_format)
    if not any(p in _DATE_PARTS for p in pieces):
        raise PartitionFormatError(f"partition_format {text!r}: {date_format!r} has none of "
                                   "yyyy, MM, dd, HH, mm, ss")
    return "".join(f"(?P<{name}__{_DATE_FIELDS[p]}>{_DATE_PARTS[p]})" if p in _DATE_PARTS
                   else re.escape(p) for p in pieces)


def check_filter(expression: dict, columns: tuple[str, ...]) -> None:
    """Raise PartitionFormatError when `expression` names a column not in `columns`."""
    op = expression.get("op")
    if op in ("and", "or"):
        for arg in expression["args"]:
            check_filter(arg, columns)
    elif op == "not":
        check_filter(expression["arg"], columns)
    elif op in _COMPARE:
        if expression["column"] not in (*columns, PATH_COLUMN, *METADATA_COLUMNS):
            raise PartitionFormatError(
                f"the dataset has no column {expression['column']!r}; its columns are "
                f"{', '.join((*columns, PATH_COLUMN))} (partition_format makes the others)")
    else:
        raise PartitionFormatError(f"unknown filter operation {op!r}")


def _value(value: Any) -> Any:
    if isinstance(value, dict) and "datetime" in value:
        return dt.datetime.fromisoformat(value["datetime"])
    return value


def matches(expression: dict, row: dict[str, Any]) -> bool:
    """Whether a file whose columns are `row` passes `expression` (a missing value never does)."""
    op = expression["op"]
    if op == "and":
        return all(matches(arg, row) for arg in expression["args"])
    if op == "or":
        return any(matches(arg, row) for arg in expression["args"])
    if op == "not":
        return not matches(expression["arg"], row)
    left, right = row.get(expression["column"]), _value(expression["value"])
    if left is None or right is None:
        return op == "!=" and (left is None) != (right is None)
    try:
        return bool(_COMPARE[op](left, right))
    except TypeError:
        raise PartitionFormatError(
            f"column {expression['column']} holds {type(left).__name__} values; it cannot be "
            f"compared with {right!r} ({type(right).__name__})") from None


def select_files(root: Path, path: str, partition_format: str | None,
                 expression: dict | None) -> list[tuple[str, str]]:
    """(datastore path, path below the dataset's root) of each file of the dataset at `path`
    (a file, folder or glob) on the datastore folder `root` that `expression` lets through."""
    fmt = PartitionFormat.parse(partition_format) if partition_format else None
    base = path if not re.search(r"[*?\[]", path) else re.split(r"[*?\[]", path, 1)[0]
    if base != path:
        base = base.rsplit("/", 1)[0] if "/" in base else ""
    selected = []
    for rel in datastore_files(root, path):
        inside = rel.rsplit("/", 1)[-1] if rel == path else (rel[len(base):].lstrip("/")
                                                              if base else rel)
        if expression is not None:
            row = dict(fmt.values("/" + rel) or {}) if fmt else {}
            row[PATH_COLUMN] = "/" + inside
            row.update(file_metadata(root / rel))
            if not matches(expression, row):
                continue
        selected.append((rel, inside))
    return selected


def datastore_files(root: Path, path: str) -> list[str]:
    """The files at datastore path `path` (a file, a folder, or a glob), as datastore paths.

    Links are neither followed nor listed: a step may have written them.
    """
    root = Path(root)
    if any(ch in path for ch in "*?["):
        wanted = re.compile(_glob_regex(path))
        return [rel for rel in _walk(root, "") if wanted.fullmatch(rel)]
    base = root / path if path else root
    try:
        info = os.lstat(base)
    except FileNotFoundError:
        return []
    if stat.S_ISREG(info.st_mode):
        return [path]
    if stat.S_ISDIR(info.st_mode):
        return _walk(root, path)
    return []


def _walk(root: Path, path: str) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root / path if path else root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            full = Path(folder) / name
            if stat.S_ISREG(os.lstat(full).st_mode):
                out.append(full.relative_to(root).as_posix())
    return sorted(out)  # by path, as a listing of the datastore reads


def _glob_regex(pattern: str) -> str:
    """A glob where `**` crosses folders and `*` stays within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out
