"""What a metric may be, checked inside the step at the call (standard library only).

As the SDK, a metric name is a non-empty string, and a logged value a number (an int of any
size, a float including NaN and ±inf), a bool or a string; numpy-style numbers become the
Python int or float they stand for. Anything else is refused with `UserErrorException` at the
call, so a bad value never reaches the runner, and the step's other values are kept.
"""
from __future__ import annotations

import numbers
from typing import Any

from runner.step_runtime.exceptions import UserErrorException


def metric_name(name: Any) -> str:
    """`name` if it is a usable metric name."""
    if not isinstance(name, str) or not name:
        raise UserErrorException(f"Metric name must be a non-empty string, got {name!r} "
                                 f"({type(name).__name__})")
    return name


def scalar(name: str, value: Any) -> Any:
    """`value` as it is stored: a bool, int, float or str (numpy numbers converted)."""
    if value is None or isinstance(value, (bool, str)) or type(value) in (int, float):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise UserErrorException(f"Metric {name}: a value of type {type(value).__name__} cannot be "
                             "logged; log a number, a bool or a string")
