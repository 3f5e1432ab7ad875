"""Column types of a TabularDataset: the SDK's `azureml.data.DataType`, as JSON typespecs.

A typespec is what travels in a spec or env file: `{"type": "string"|"long"|"double"|
"boolean"|"datetime", ...}` with `formats` (datetime), `decimal_mark` (double) and
`true_values` / `false_values` / `mismatch_as` (boolean). `DataType` builds them the way the
SDK's static methods do. The conversions (`convert_column`) and the cheap inference that follows
pandas' own (`infer_dates`) take pandas as an argument: this module imports only the standard
library; pandas, numpy and pyarrow are imported lazily, here only (`require_pandas`,
`require_pyarrow`, `numpy_module`, the pyarrow date cast), so the step runtime's other modules
stay free of them.
"""
from __future__ import annotations

import re

from runner.step_runtime.exceptions import UserErrorException

TYPES = ("string", "long", "double", "boolean", "datetime")
MISMATCH_AS = ("true", "false", "error")
DEFAULT_TRUE = ("true", "1", "yes", "y", "t")
DEFAULT_FALSE = ("false", "0", "no", "n", "f")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?")
_SDK_EXTRA = "the SDK needs azureml-dataprep[pandas] for the same call"


def require_pandas(call: str):
    """pandas, or a one-line UserErrorException naming `call` when it is not installed."""
    try:
        import pandas
    except ImportError:
        raise UserErrorException(
            f"{call} needs pandas: add pandas to this environment (pip install pandas; {_SDK_EXTRA})"
        ) from None
    return pandas


def require_pyarrow(call: str):
    """pyarrow.parquet, or a one-line UserErrorException naming `call` when it is missing."""
    try:
        import pyarrow.parquet
    except ImportError:
        raise UserErrorException(
            f"{call} needs pyarrow: add pyarrow to this environment (pip install pyarrow; {_SDK_EXTRA})"
        ) from None
    return pyarrow.parquet


def numpy_module():
    """numpy (installed with pandas; only called once pandas was found)."""
    import numpy
    return numpy


class DataType:
    """A column type for `set_column_types` (the SDK's `azureml.data.DataType`); `to_json()`
    gives its typespec, `DataType.from_json(spec)` reads one back (checked)."""

    def __init__(self, spec: dict) -> None:
        check_typespec(spec)
        self._spec = dict(spec)

    @staticmethod
    def to_string() -> "DataType":
        """Values as strings."""
        return DataType({"type": "string"})

    @staticmethod
    def to_long() -> "DataType":
        """Values as 64-bit integers; what does not parse becomes null."""
        return DataType({"type": "long"})

    @staticmethod
    def to_float(decimal_mark: str = ".") -> "DataType":
        """Values as 64-bit floats, `decimal_mark` ('.' or ',') separating the decimals."""
        return DataType({"type": "double", "decimal_mark": decimal_mark})

    @staticmethod
    def to_bool(true_values: list[str] | None = None, false_values: list[str] | None = None,
                mismatch_as: str | None = None) -> "DataType":
        """Values as booleans: `true_values` / `false_values` (case-insensitive); any other value
        is `mismatch_as` ('true', 'false' or 'error', which makes it null)."""
        spec: dict = {"type": "boolean"}
        if true_values is not None:
            spec["true_values"] = list(true_values)
        if false_values is not None:
            spec["false_values"] = list(false_values)
        if mismatch_as is not None:
            spec["mismatch_as"] = getattr(mismatch_as, "value", mismatch_as)
        return DataType(spec)

    @staticmethod
    def to_datetime(formats: str | list[str] | None = None) -> "DataType":
        """Values as datetimes, parsed with the first of `formats` ('%Y-%m-%d'...) that fits
        (ISO 8601 when none is given)."""
        spec: dict = {"type": "datetime"}
        if formats is not None:
            spec["formats"] = [formats] if isinstance(formats, str) else list(formats)
        return DataType(spec)

    @staticmethod
    def from_json(spec: dict) -> "DataType":
        """The DataType of a typespec (UserErrorException when it is not a valid one)."""
        return DataType(spec)

    def to_json(self) -> dict:
        """The typespec (a new dict)."""
        return dict(self._spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataType) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash(repr(sorted(self._spec.items())))

    def __repr__(self) -> str:
        return f"DataType({self._spec!r})"


def _string_list(spec: dict, key: str) -> None:
    value = spec.get(key)
    if value is not None and (not isinstance(value, list)
                              or not all(isinstance(v, str) for v in value)):
        raise UserErrorException(f"DataType {key} must be a list of strings, got {value!r}")


def check_typespec(spec: object, column: str | None = None) -> None:
    """UserErrorException (one line) unless `spec` is a valid typespec."""
    where = f" for column '{column}'" if column is not None else ""
    if isinstance(spec, DataType):
        return
    if not isinstance(spec, dict) or spec.get("type") not in TYPES:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise UserErrorException(
            f"Invalid column type {kind!r}{where}: expected a DataType "
            f"({', '.join(TYPES)})")
    _string_list(spec, "formats")
    _string_list(spec, "true_values")
    _string_list(spec, "false_values")
    if spec.get("mismatch_as") not in (None,) + MISMATCH_AS:
        raise UserErrorException(
            f"Invalid mismatch_as {spec['mismatch_as']!r}{where}: expected one of "
            f"{', '.join(MISMATCH_AS)}")
    if spec.get("decimal_mark", ".") not in (".", ","):
        raise UserErrorException(
            f"Invalid decimal_mark {spec['decimal_mark']!r}{where}: expected '.' or ','")


def is_text(pd, series) -> bool:
    """Whether `series` holds strings (object or pandas' str dtype)."""
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _as_ns(pd, series):
    """A datetime series as naive datetime64[ns] (UTC for zone-aware values)."""
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.astype("datetime64[ns]")


def _arrow_timestamps(pd, series):
    """ISO 8601 text parsed by pyarrow's cast (about 5x faster than pandas), or None when
    pyarrow is missing or a value is not one it takes."""
    try:
        import pyarrow
        import pyarrow.compute
    except ImportError:
        return None
    try:
        text = pyarrow.array(series, from_pandas=True)
        if not pyarrow.types.is_string(text.type) and not pyarrow.types.is_large_string(text.type):
            return None
        try:
            stamps = pyarrow.compute.cast(text, pyarrow.timestamp("ns"))
        except pyarrow.ArrowInvalid:
            stamps = pyarrow.compute.cast(text, pyarrow.timestamp("ns", tz="UTC"))
            stamps = stamps.cast(pyarrow.timestamp("ns"))
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError, pyarrow.ArrowNotImplementedError):
        return None
    return pd.Series(stamps.to_numpy(zero_copy_only=False), index=series.index,
                     name=series.name).astype("datetime64[ns]")


def parse_datetimes(pd, series, formats: list[str] | None = None):
    """`series` as datetime64[ns]; values no format fits become NaT."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _as_ns(pd, series)
    if not formats:
        fast = _arrow_timestamps(pd, series)
        if fast is not None:
            return fast
        return _as_ns(pd, pd.to_datetime(series, format="ISO8601", errors="coerce", utc=True))
    text = series.astype(object).where(series.notna(), None)
    result = None
    for fmt in formats:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        result = parsed if result is None else result.fillna(parsed)
    return _as_ns(pd, result)


def date_candidates(pd, df, skip: list[str] = ()) -> list[str]:
    """The text columns of `df` (but `skip`) whose first 64 values all look like ISO 8601
    dates (a regex on a sample, so columns that are not dates cost almost nothing)."""
    found = []
    for name in df.columns:
        series = df[name]
        if name not in skip and is_text(pd, series):
            sample = series.dropna().head(64)
            if not sample.empty and all(isinstance(v, str) and _ISO.fullmatch(v) for v in sample):
                found.append(name)
    return found


def all_dates(pd, series):
    """`series` as datetime64[ns] when every non-null value parses as ISO 8601, else None."""
    parsed = parse_datetimes(pd, series)
    return parsed if parsed.notna().sum() == series.notna().sum() else None


def infer_dates(pd, df, skip: list[str] = ()) -> None:
    """Turn (in place) each text column of `df` (but `skip`) whose values are all ISO 8601
    dates into datetime64[ns]."""
    for name in date_candidates(pd, df, skip):
        parsed = all_dates(pd, df[name])
        if parsed is not None:
            df[name] = parsed


def _to_bool(pd, series, spec: dict):
    trues = {v.lower() for v in spec.get("true_values") or DEFAULT_TRUE}
    falses = {v.lower() for v in spec.get("false_values") or DEFAULT_FALSE}
    mismatch = {"true": True, "false": False}.get(spec.get("mismatch_as", "error"))

    def one(value):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return True if text in trues else False if text in falses else mismatch

    values = [one(v) for v in series.astype(object)]
    if any(v is None for v in values):
        return pd.Series(values, index=series.index, dtype=object)
    return pd.Series(values, index=series.index, dtype=bool)


def convert_column(pd, series, spec: dict):
    """`series` converted to the typespec `spec` (values that do not convert become null: long
    becomes float64 when any null remains, boolean object)."""
    spec = spec.to_json() if isinstance(spec, DataType) else spec
    kind = spec["type"]
    if kind == "string":
        text = series.astype(str)
        return text.where(series.notna(), None) if series.isna().any() else text
    if kind == "datetime":
        return parse_datetimes(pd, series, spec.get("formats"))
    if kind == "boolean":
        return _to_bool(pd, series, spec)
    if is_text(pd, series) and spec.get("decimal_mark") == ",":
        series = series.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    if series.dtype == bool:
        series = series.astype("int64")
    numbers = pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "double":
        return numbers
    numbers = numbers.where(numbers == numbers.round())
    return numbers.astype("int64") if not numbers.isna().any() else numbers
