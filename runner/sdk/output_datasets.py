"""Dataset outputs (`azureml.data.output_dataset_config`): the folder a step writes, saved
to a datastore path, optionally read as a table by later steps and registered when the step
succeeds.

Like the SDK's, every method returns a changed copy; the copies share one `_Origin`, so a
later step's input made from any copy still knows the step that produces it. What the runner
needs travels in the PipelineSpec: the output's `register` (name, description, tags and the
dataset definition template, see `dataset_template`) and, for a consuming step, the input's
`dataset_view` (the same template, given the producer's folder when the step starts).
"""
from __future__ import annotations

import copy
import uuid
from typing import Any

from runner.sdk.dataset_consumption import DatasetConsumptionConfig, _check_dataset_name
from runner.step_runtime.dataset_factory import delimited_read, parquet_read
from runner.step_runtime.exceptions import UserErrorException
from store.datastore_paths import normalize_datastore_path


def dataset_template(kind: str, *, read: dict[str, Any] | None = None,
                     partition_format: str | None = None, path_glob: str | None = None,
                     transforms: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A dataset definition over a folder not known yet (a step's output): its one source has
    only a `path` (a glob below the folder, or "" for every file); the runner gives it the
    folder (or the datastore path) when it is known."""
    if path_glob is not None and not isinstance(path_glob, str):
        raise UserErrorException(f"path_glob must be a string such as '*.csv', not {path_glob!r}")
    if partition_format is not None:
        from runner.step_runtime.dataset_partitions import PartitionFormat
        PartitionFormat.parse(partition_format)
    definition: dict[str, Any] = {"kind": kind,
                                  "sources": [{"path": (path_glob or "").lstrip("/")}],
                                  "partition_format": partition_format, "filter": None,
                                  "transforms": list(transforms or [])}
    if read is not None:
        definition["read"] = read
    return definition


class RegistrationConfiguration:
    """How an output is registered as a dataset when its step succeeds (`register_on_complete`)."""

    def __init__(self, name: str, description: str | None, tags: dict | None) -> None:
        self.name = name
        self.description = description
        self.tags = tags


class _Origin:
    """The producing step, shared by every copy of one output (never copied)."""

    def __init__(self) -> None:
        self.producer_step: Any = None

    def __copy__(self) -> "_Origin":
        return self

    def __deepcopy__(self, memo: dict) -> "_Origin":
        return self


class OutputFileDatasetConfig:
    """A folder a step writes, saved to a datastore path (default `dataset/{run-id}/{output-name}`)."""

    def __init__(self, name: str | None = None, destination: tuple | None = None,
                 source: str | None = None, partition_format: str | None = None) -> None:
        self._name = _check_dataset_name(name) if name is not None else f"output_{uuid.uuid4().hex[:8]}"
        if destination is not None:
            if not (isinstance(destination, tuple) and len(destination) == 2):
                raise UserErrorException("destination must be a (datastore, path) tuple")
            normalize_datastore_path(destination[1], what="destination path")
        self.destination = destination
        self.source = source
        self.mode = "mount"
        self._partition_format = partition_format
        if partition_format is not None:
            dataset_template("file", partition_format=partition_format)  # checks it
        self._upload_options: dict[str, Any] | None = None
        self._registration: RegistrationConfiguration | None = None
        self._origin = _Origin()

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = _check_dataset_name(value)

    @property
    def _producer(self) -> Any:
        return self._origin.producer_step

    @_producer.setter
    def _producer(self, step: Any) -> None:
        self._origin.producer_step = step

    def _set_producer(self, step: Any) -> None:
        self._origin.producer_step = step

    @property
    def arg_val(self) -> str:
        """What this output is in a step's arguments before it becomes a path (as in the SDK)."""
        return f"DatasetOutputConfig:{self._name}"

    def _copy(self, **changes: Any) -> Any:
        other = copy.deepcopy(self)
        for key, value in changes.items():
            setattr(other, key, value)
        return other

    def as_mount(self, disable_metadata_cache: bool = False) -> Any:
        """A copy written in place (the step writes into the datastore folder)."""
        return self._copy(mode="mount", _upload_options=None)

    def as_upload(self, overwrite: bool = False, source_globs: Any = None) -> Any:
        """A copy written to a local folder and copied to the datastore when the step ends."""
        return self._copy(mode="upload", _upload_options={"overwrite": bool(overwrite),
                                                          "source_globs": source_globs})

    def register_on_complete(self, name: str, description: str | None = None,
                             tags: dict | None = None) -> Any:
        """A copy registered as (a new version of) dataset `name` when its step succeeds."""
        if not name:
            raise ValueError("The registration name of the dataset must not be empty.")
        return self._copy(_registration=RegistrationConfiguration(name, description, tags))

    def read_delimited_files(self, include_path: bool = False, separator: str = ",",
                             header: Any = "all_files_same_headers",
                             partition_format: str | None = None, path_glob: str | None = None,
                             set_column_types: Any = None) -> "OutputTabularDatasetConfig":
        """This output read as delimited files (a TabularDataset for a later step; columns
        not in `set_column_types` stay strings, as in the SDK)."""
        read = delimited_read(include_path=include_path, infer_column_types=False,
                              set_column_types=set_column_types, separator=separator,
                              header=header)
        return OutputTabularDatasetConfig(self, dataset_template(
            "tabular", read=read, partition_format=partition_format, path_glob=path_glob))

    def read_parquet_files(self, include_path: bool = False, partition_format: str | None = None,
                           path_glob: str | None = None,
                           set_column_types: Any = None) -> "OutputTabularDatasetConfig":
        """This output read as Parquet files (a TabularDataset for a later step)."""
        read = parquet_read(include_path=include_path, set_column_types=set_column_types)
        return OutputTabularDatasetConfig(self, dataset_template(
            "tabular", read=read, partition_format=partition_format, path_glob=path_glob))

    def as_input(self, name: str | None = None) -> "OutputDatasetInput":
        """Use this output as an input of a later step (mounted: a path in the step)."""
        return OutputDatasetInput(self, name or f"input_{uuid.uuid4().hex[:8]}")

    def _template(self) -> dict[str, Any]:
        """The dataset this output is, over its folder (see `dataset_template`)."""
        return dataset_template("file", partition_format=self._partition_format)

    def _register_spec(self) -> dict[str, Any] | None:
        """What `OutputSpec.register` records, or None when it is not registered."""
        if self._registration is None:
            return None
        return {"name": self._registration.name, "description": self._registration.description,
                "tags": {str(k): str(v) for k, v in (self._registration.tags or {}).items()},
                "dataset": self._template()}

    def __str__(self) -> str:
        return f"DatasetOutputConfig:{self._name}"


class OutputTabularDatasetConfig(OutputFileDatasetConfig):
    """An output read as a table (`read_delimited_files`, `read_parquet_files`): a later step
    gets a TabularDataset over the files its producer wrote; registered, it is a
    TabularDataset too. Built from an OutputFileDatasetConfig, never directly."""

    _KIND = "tabular"

    def __init__(self, output_file_dataset_config: Any = None, template: Any = None) -> None:
        if not isinstance(output_file_dataset_config, OutputFileDatasetConfig) or template is None:
            raise ValueError("The constructor of this class is not supposed to be called directly. "
                             "Please create an OutputFileDatasetConfig and add additional transforms "
                             "to get a OutputTabularDatasetConfig.")
        self.__dict__.update(copy.deepcopy(output_file_dataset_config).__dict__)
        self._origin = output_file_dataset_config._origin
        self._tabular = template

    def as_mount(self, disable_metadata_cache: bool = False) -> Any:
        return self._copy(mode="mount", _upload_options=None)

    def read_delimited_files(self, *args: Any, **kwargs: Any) -> Any:
        raise UserErrorException("read_delimited_files is a method of OutputFileDatasetConfig; "
                                 "this output is already read as a table")

    read_parquet_files = read_delimited_files

    def keep_columns(self, columns: Any) -> "OutputTabularDatasetConfig":
        """A copy that keeps only `columns`."""
        return self._with_transform({"op": "keep_columns", "columns": _names(columns),
                                     "validate": False})

    def drop_columns(self, columns: Any) -> "OutputTabularDatasetConfig":
        """A copy without `columns`."""
        return self._with_transform({"op": "drop_columns", "columns": _names(columns)})

    def _with_transform(self, transform: dict[str, Any]) -> "OutputTabularDatasetConfig":
        template = copy.deepcopy(self._tabular)
        template["transforms"] = [*template.get("transforms", []), transform]
        return self._copy(_tabular=template)

    def as_input(self, name: str | None = None) -> DatasetConsumptionConfig:  # type: ignore[override]
        """Use this output as an input of a later step: a TabularDataset there (direct mode)."""
        return DatasetConsumptionConfig(name or f"input_{uuid.uuid4().hex[:8]}", self, "direct")

    def _template(self) -> dict[str, Any]:
        return copy.deepcopy(self._tabular)


def _names(columns: Any) -> list[str]:
    items = [columns] if isinstance(columns, str) else list(columns or [])
    if not items or not all(isinstance(c, str) for c in items):
        raise UserErrorException(f"takes a column name or a list of column names, not {columns!r}")
    return items


class OutputDatasetInput:
    """An `OutputFileDatasetConfig` consumed by a later step (`as_input()`): a mounted path."""

    def __init__(self, output: OutputFileDatasetConfig, name: str) -> None:
        self.output = output
        self.name = _check_dataset_name(name)
        self.mode = "mount"

    def __str__(self) -> str:
        return f"DatasetConsumptionConfig:{self.name}"
