"""A PipelineSubmit request body as pipeline parameter values, checked against the spec.

Azure's SDK sends `ParameterAssignments` values as strings; curl users send JSON numbers and
booleans. Each value is converted to its parameter's type (int, float, bool, str); a
`DataPathAssignments` entry `{DataStoreName, RelativePath}` becomes a datapath value; a
`DataSetDefinitionValueAssignments` entry `{SavedDataSetReference: {Id}}` becomes the
registered dataset with that id (`{"dataset": definition, "asset_id": id}`).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from runner.spec import ParameterSpec


class AssignmentError(ValueError):
    """A request names an unknown parameter or gives a value of the wrong type."""


def _known(params: Mapping[str, ParameterSpec]) -> str:
    return ", ".join(sorted(params)) or "none"


def convert_value(name: str, kind: str, value: Any) -> Any:
    """`value` as a value of parameter `name` of type `kind`, or AssignmentError."""
    wrong = AssignmentError(f"Parameter {name} expects a value of type {kind}, "
                            f"got {type(value).__name__} {value!r}")
    if kind == "str":
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise wrong
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise wrong
    if kind == "int":
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise wrong from None
        raise wrong
    if kind == "float":
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                parsed = float(value.strip())
            except ValueError:
                raise wrong from None
            if math.isfinite(parsed):
                return parsed
        raise wrong
    raise AssignmentError(f"Parameter {name} is a {kind} parameter; assign it with "
                          + ("DataPathAssignments" if kind == "datapath" else
                             "DataSetDefinitionValueAssignments" if kind == "dataset" else
                             "the SDK"))


def _data_path(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not isinstance(value.get("DataStoreName"), str) \
            or not isinstance(value.get("RelativePath"), str):
        raise AssignmentError(f"DataPathAssignments[{name}] must be "
                              '{"DataStoreName": "...", "RelativePath": "..."}')
    return {"datastore": value["DataStoreName"], "path": value["RelativePath"]}


def _saved_dataset(name: str, value: Any,
                   find_dataset: Callable[[str], Mapping[str, Any] | None]) -> dict[str, Any]:
    reference = value.get("SavedDataSetReference") if isinstance(value, dict) else None
    asset_id = reference.get("Id") if isinstance(reference, dict) else None
    if not isinstance(asset_id, str) or not asset_id:
        raise AssignmentError(f"DataSetDefinitionValueAssignments[{name}] must be "
                              '{"SavedDataSetReference": {"Id": "<registered dataset id>"}}')
    definition = find_dataset(asset_id)
    if definition is None:
        raise AssignmentError(f"DataSetDefinitionValueAssignments[{name}]: no registered dataset "
                              f"has id {asset_id}")
    return {"dataset": dict(definition), "asset_id": asset_id}


def parameter_values(params: Mapping[str, ParameterSpec], assignments: Any,
                     data_paths: Any = None, datasets: Any = None,
                     find_dataset: Callable[[str], Mapping[str, Any] | None] = lambda _id: None
                     ) -> dict[str, Any]:
    """The parameter values a request assigns (defaults are filled in by the client API);
    `find_dataset` gives a registered dataset's definition by id (None when there is none)."""
    values: dict[str, Any] = {}
    for field, given in (("ParameterAssignments", assignments), ("DataPathAssignments", data_paths),
                         ("DataSetDefinitionValueAssignments", datasets)):
        if given is not None and not isinstance(given, dict):
            raise AssignmentError(f"{field} must be a JSON object of parameter name to value")
    for name, value in (assignments or {}).items():
        if name not in params:
            raise AssignmentError(f"Parameter {name} does not exist in this pipeline "
                                  f"(its parameters: {_known(params)})")
        values[name] = convert_value(name, params[name].type, value)
    for name, value in (data_paths or {}).items():
        if name not in params:
            raise AssignmentError(f"Parameter {name} does not exist in this pipeline "
                                  f"(its parameters: {_known(params)})")
        if params[name].type != "datapath":
            raise AssignmentError(f"Parameter {name} is a {params[name].type} parameter, "
                                  "not a DataPath; assign it in ParameterAssignments")
        values[name] = _data_path(name, value)
    for name, value in (datasets or {}).items():
        if name not in params:
            raise AssignmentError(f"Parameter {name} does not exist in this pipeline "
                                  f"(its parameters: {_known(params)})")
        if params[name].type != "dataset":
            raise AssignmentError(f"Parameter {name} is a {params[name].type} parameter, "
                                  "not a dataset; assign it in "
                                  + ("DataPathAssignments" if params[name].type == "datapath"
                                     else "ParameterAssignments"))
        values[name] = _saved_dataset(name, value, find_dataset)
    return values
