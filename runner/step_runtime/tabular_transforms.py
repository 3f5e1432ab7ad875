"""The lazy transforms of a TabularDataset (keep/drop columns, take/skip, samples, splits and
time filters), as JSON dicts checked at build time and applied to the frame at read time.

A transform is `{"op": ..., ...}`; `check_transform` raises the SDK-shaped UserErrorException
when it is built, `apply_transforms` runs the list in order on a pandas DataFrame. Samples and
splits draw one number in [0, 1) per row from a hash of (seed, row position), so a seed gives
the same rows on every read and the two sides of a `random_split` partition the rows exactly.
Standard library only: pandas arrives with the frame, numpy through `numpy_module`.
"""
from __future__ import annotations

import datetime
import random

from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.tabular_types import is_text, numpy_module, parse_datetimes

OPS = ("keep_columns", "drop_columns", "take", "skip", "take_sample", "random_split",
       "time_after", "time_before", "time_between", "time_recent")
_TIME_KEYS = {"time_after": ("start",), "time_before": ("end",),
              "time_between": ("start", "end"), "time_recent": ()}
_MASK = (1 << 64) - 1


def _columns(transform: dict) -> list[str]:
    columns = transform.get("columns")
    columns = [columns] if isinstance(columns, str) else columns
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise UserErrorException(
            f"{transform['op']}: columns must be a column name or a list of column names, "
            f"got {transform.get('columns')!r}")
    return columns


def _missing(op: str, wanted: list[str], columns: list[str]) -> None:
    absent = [c for c in wanted if c not in columns]
    if absent:
        names = ", ".join(f"'{c}'" for c in absent)
        raise UserErrorException(
            f"{op}: column(s) {names} not found in the dataset; its columns are: "
            f"{', '.join(map(str, columns))}")


def _fraction(transform: dict, key: str) -> None:
    value = transform.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise UserErrorException(
            f"{transform['op']}: {key} must be a number between 0.0 and 1.0 (exclusive), "
            f"got {value!r}")
    seed = transform.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise UserErrorException(f"{transform['op']}: seed must be an integer, got {seed!r}")


def _parse_time(op: str, key: str, value: object) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise UserErrorException(
            f"{op}: {key} must be a datetime (ISO 8601 text), got {value!r}") from None


def check_transform(transform: dict, columns: list[str] | None) -> None:
    """UserErrorException (one line, SDK-shaped) unless `transform` is valid; `columns` (when
    known) are the dataset's columns at that point, to check the columns it names."""
    op = transform.get("op") if isinstance(transform, dict) else None
    if op not in OPS:
        raise UserErrorException(f"Unknown transform {op!r}: expected one of {', '.join(OPS)}")
    if op in ("keep_columns", "drop_columns"):
        wanted = _columns(transform)
        if columns is not None:
            _missing(op, wanted, columns)
    elif op in ("take", "skip"):
        count = transform.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise UserErrorException(f"{op}: count must be a non-negative integer, got {count!r}")
    elif op == "take_sample":
        _fraction(transform, "probability")
    elif op == "random_split":
        _fraction(transform, "percentage")
        if transform.get("side") not in (0, 1):
            raise UserErrorException(f"random_split: side must be 0 or 1, got {transform.get('side')!r}")
    else:
        column = transform.get("column")
        if not isinstance(column, str) or not column:
            raise UserErrorException(
                f"{op}: the dataset has no timestamp column (call with_timestamp_columns first)")
        if columns is not None:
            _missing(op, [column], columns)
        for key in _TIME_KEYS[op]:
            _parse_time(op, key, transform.get(key))
        if op == "time_recent":
            seconds = transform.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise UserErrorException(
                    f"time_recent: time_delta must be a non-negative timedelta, got {seconds!r} seconds")
        if not isinstance(transform.get("include_boundary", True), bool):
            raise UserErrorException(f"{op}: include_boundary must be True or False")


def row_draws(count: int, seed: int):
    """One float in [0, 1) per row position 0..count-1, from splitmix64 of (seed, position)."""
    numpy = numpy_module()
    with numpy.errstate(over="ignore"):
        x = numpy.arange(count, dtype=numpy.uint64)
        x += numpy.uint64((seed * 0x9E3779B97F4A7C15) & _MASK)
        x += numpy.uint64(0x9E3779B97F4A7C15)
        x ^= x >> numpy.uint64(30)
        x *= numpy.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> numpy.uint64(27)
        x *= numpy.uint64(0x94D049BB133111EB)
        x ^= x >> numpy.uint64(31)
    return (x >> numpy.uint64(11)).astype(numpy.float64) * (1.0 / (1 << 53))


def _seed(transform: dict) -> int:
    seed = transform.get("seed")
    return random.SystemRandom().getrandbits(63) if seed is None else seed


def _naive(pd, moment: datetime.datetime):
    """A pandas Timestamp without a zone (UTC for a zone-aware `moment`)."""
    stamp = pd.Timestamp(moment)
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC").tz_localize(None)


def _time_filter(pd, df, transform: dict):
    op = transform["op"]
    column = transform["column"]
    _missing(op, [column], list(df.columns))
    values = df[column]
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        if not is_text(pd, values):
            raise UserErrorException(
                f"{op}: the timestamp column '{column}' is not of type datetime ({values.dtype})")
        values = parse_datetimes(pd, values)
    inclusive = transform.get("include_boundary", True)
    keep = values.notna()
    if op == "time_recent":
        start = datetime.datetime.now() - datetime.timedelta(seconds=transform["seconds"])
        bounds = (start, None)
    else:
        bounds = tuple(_parse_time(op, key, transform[key]) if key in transform else None
                       for key in ("start", "end"))
    start, end = (None if t is None else _naive(pd, t) for t in bounds)
    if start is not None:
        keep &= (values >= start) if inclusive else (values > start)
    if end is not None:
        keep &= (values <= end) if inclusive else (values < end)
    return df[keep.to_numpy()]


def apply_transforms(pd, df, transforms: list[dict]):
    """`df` after each transform of `transforms` in order (a new frame, index 0..n-1)."""
    for transform in transforms:
        check_transform(transform, None)
        op = transform["op"]
        if op == "keep_columns":
            wanted = _columns(transform)
            _missing(op, wanted, list(df.columns))
            df = df[[c for c in df.columns if c in set(wanted)]]
        elif op == "drop_columns":
            wanted = _columns(transform)
            _missing(op, wanted, list(df.columns))
            df = df.drop(columns=wanted)
        elif op == "take":
            df = df.iloc[:transform["count"]]
        elif op == "skip":
            df = df.iloc[transform["count"]:]
        elif op == "take_sample":
            df = df[row_draws(len(df), _seed(transform)) < transform["probability"]]
        elif op == "random_split":
            below = row_draws(len(df), _seed(transform)) < transform["percentage"]
            df = df[below if transform["side"] == 0 else ~below]
        else:
            df = _time_filter(pd, df, transform)
    return df.reset_index(drop=True)
