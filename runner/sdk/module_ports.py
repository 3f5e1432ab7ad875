"""`InputPortDef` and `OutputPortDef`: the ports a module declares, with the SDK's parameters.

A port's defaults (mode, path on compute, overwrite) apply to whatever a `ModuleStep` maps to
it unless the mapping says otherwise (an explicit `as_download()` / `InputPortBinding`); an
input that is not optional must be mapped. `default_data_reference_name` and `label` are
recorded with the module version.
"""
from __future__ import annotations

from typing import Any


class _PortDef:
    """What input and output port definitions share: name, delivery defaults and label."""

    def __init__(self, name: str, default_datastore_mode: str | None,
                 default_path_on_compute: str | None, default_overwrite: bool | None,
                 label: str | None) -> None:
        self._name = name
        self._default_datastore_mode = default_datastore_mode
        self._default_path_on_compute = default_path_on_compute
        self._default_overwrite = default_overwrite
        self._label = label

    @property
    def name(self) -> str:
        return self._name

    @property
    def default_datastore_mode(self) -> str | None:
        """How mapped data arrives (input) or is written (output) unless the mapping chooses."""
        return self._default_datastore_mode

    @property
    def default_path_on_compute(self) -> str | None:
        return self._default_path_on_compute

    @property
    def default_overwrite(self) -> bool | None:
        return self._default_overwrite

    @property
    def label(self) -> str | None:
        return self._label


class InputPortDef(_PortDef):
    """An input port of a module: its name, accepted data types and delivery defaults."""

    def __init__(self, name: str, data_types: list[str] | None = None,
                 default_datastore_mode: str | None = None, default_path_on_compute: str | None = None,
                 is_optional: bool = False, default_overwrite: bool | None = None,
                 default_data_reference_name: str | None = None, is_resource: bool = False,
                 label: str | None = None, additional_transformations: Any = None,
                 **kwargs: Any) -> None:
        if default_datastore_mode not in (None, "mount", "download"):
            raise ValueError(f"Invalid default_datastore_mode {default_datastore_mode!r}: use "
                             "mount or download")
        super().__init__(name, default_datastore_mode, default_path_on_compute, default_overwrite,
                         label)
        self._data_types = data_types if data_types is not None else ["AnyFile", "AnyDirectory"]
        self._is_optional = is_optional
        self._default_data_reference_name = default_data_reference_name
        self._is_resource = is_resource
        self._additional_transformations = additional_transformations

    @property
    def data_types(self) -> list[str]:
        return self._data_types

    @property
    def is_optional(self) -> bool:
        return self._is_optional

    @property
    def default_data_reference_name(self) -> str | None:
        """The data reference name the port binds to by default (recorded)."""
        return self._default_data_reference_name

    @property
    def is_resource(self) -> bool:
        return self._is_resource

    @property
    def additional_transformations(self) -> Any:
        return self._additional_transformations

    def _to_spec(self) -> dict[str, Any]:
        return {"mode": self._default_datastore_mode, "path_on_compute": self._default_path_on_compute,
                "overwrite": self._default_overwrite, "optional": bool(self._is_optional),
                "data_reference_name": self._default_data_reference_name, "label": self._label,
                "data_types": list(self._data_types)}


class OutputPortDef(_PortDef):
    """An output port of a module: its name and where and how its data is written."""

    def __init__(self, name: str, default_datastore_name: str | None = None,
                 default_datastore_mode: str | None = None, default_path_on_compute: str | None = None,
                 is_directory: bool = False, data_type: str | None = None,
                 default_overwrite: bool | None = None, training_output: Any = None,
                 label: str | None = None) -> None:
        super().__init__(name, default_datastore_mode, default_path_on_compute, default_overwrite,
                         label)
        self._default_datastore_name = default_datastore_name
        self._is_directory = is_directory
        self._data_type = data_type
        self._training_output = training_output

    @property
    def default_datastore_name(self) -> str | None:
        return self._default_datastore_name

    @property
    def is_directory(self) -> bool:
        return self._is_directory

    @property
    def data_type(self) -> str | None:
        return self._data_type

    @property
    def training_output(self) -> Any:
        return self._training_output

    def _to_spec(self) -> dict[str, Any]:
        return {"datastore": self._default_datastore_name, "mode": self._default_datastore_mode,
                "path_on_compute": self._default_path_on_compute, "label": self._label}


def port_definitions(inputs: list, outputs: list) -> dict[str, dict]:
    """The `input_defs` / `output_defs` a module version records."""
    return {"input_defs": {p.name: p._to_spec() for p in inputs},
            "output_defs": {p.name: p._to_spec() for p in outputs}}
