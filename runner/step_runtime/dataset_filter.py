"""Filter expressions on a FileDataset's columns: `ds['country'] == 'BE'`, combined with `&`,
`|` and `~`, as the SDK builds them (with azureml-dataprep) for `FileDataset.filter`.

An expression is kept as JSON (see `dataset_partitions`), so it can be stored, compared
and evaluated anywhere; the columns are the ones `partition_format` makes, plus `Path`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from runner.step_runtime.exceptions import UserErrorException


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"datetime": dt.datetime(value.year, value.month, value.day).isoformat()}
    if value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    raise UserErrorException(f"a filter compares a column with text, a number or a datetime, "
                             f"not {value!r}")


class FilterExpression:
    """A condition on a file's columns; `&`, `|` and `~` combine conditions."""

    def __init__(self, spec: dict) -> None:
        self._spec = spec

    def __and__(self, other: "FilterExpression") -> "FilterExpression":
        return FilterExpression({"op": "and", "args": [self._spec, _spec_of(other)]})

    def __or__(self, other: "FilterExpression") -> "FilterExpression":
        return FilterExpression({"op": "or", "args": [self._spec, _spec_of(other)]})

    def __invert__(self) -> "FilterExpression":
        return FilterExpression({"op": "not", "arg": self._spec})

    def __bool__(self) -> bool:
        raise UserErrorException("a dataset filter cannot be used as a bool; combine conditions "
                                 "with & and | (not `and`/`or`), in parentheses")

    def to_json(self) -> dict:
        """The expression as JSON."""
        return self._spec

    def __repr__(self) -> str:
        return f"FilterExpression({self._spec})"


def _spec_of(other: Any) -> dict:
    if not isinstance(other, FilterExpression):
        raise UserErrorException(f"& and | combine filter conditions, not {other!r}")
    return other.to_json()


class ColumnExpression:
    """A dataset column (`ds['country']`): compare it to make a FilterExpression."""

    __hash__ = None  # type: ignore[assignment]  # == builds a condition

    def __init__(self, name: str) -> None:
        self.name = name

    def _compare(self, op: str, value: Any) -> FilterExpression:
        return FilterExpression({"op": op, "column": self.name, "value": _json_value(value)})

    def __eq__(self, value: Any) -> FilterExpression:  # type: ignore[override]
        return self._compare("==", value)

    def __ne__(self, value: Any) -> FilterExpression:  # type: ignore[override]
        return self._compare("!=", value)

    def __lt__(self, value: Any) -> FilterExpression:
        return self._compare("<", value)

    def __le__(self, value: Any) -> FilterExpression:
        return self._compare("<=", value)

    def __gt__(self, value: Any) -> FilterExpression:
        return self._compare(">", value)

    def __ge__(self, value: Any) -> FilterExpression:
        return self._compare(">=", value)

    def starts_with(self, value: str) -> FilterExpression:
        """Text columns: the value begins with `value`."""
        return self._compare("starts_with", value)

    def ends_with(self, value: str) -> FilterExpression:
        """Text columns: the value ends with `value`."""
        return self._compare("ends_with", value)

    def contains(self, value: str) -> FilterExpression:
        """Text columns: the value holds `value`."""
        return self._compare("contains", value)

    def __repr__(self) -> str:
        return f"ColumnExpression({self.name!r})"
