"""Data the steps read: DataReference, DataPath, file datasets and dataset outputs.

Each object knows how it appears in a PipelineSpec (`_input_source`); the runner turns that
into a real path for the step. Paths on a datastore never leave it.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from runner.spec import InputSource
from runner.step_runtime.exceptions import UserErrorException
from store.datastore_paths import normalize_datastore_path, open_datastore_file

_DATA_MODES = ("mount", "download", "upload")
_DATASET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_dataset_name(name: str) -> str:
    if not isinstance(name, str) or not _DATASET_NAME.match(name):
        raise UserErrorException(
            f"Invalid name {name!r}: a dataset input or output name must start with a letter or "
            "'_' and contain only letters, digits and '_'")
    return name


class DataReference:
    """A path on a datastore used as a step input (mount, download) or output (upload)."""

    def __init__(self, datastore: Any, data_reference_name: str | None = None,
                 path_on_datastore: str | None = None, mode: str = "mount",
                 path_on_compute: str | None = None, overwrite: bool = False) -> None:
        if mode not in _DATA_MODES:
            raise UserErrorException(f"Invalid mode {mode!r}: use one of {', '.join(_DATA_MODES)}")
        normalize_datastore_path(path_on_datastore, what="path_on_datastore")
        if data_reference_name is None:
            data_reference_name = (uuid.uuid4().hex if path_on_datastore not in (None, "/", ".", "./")
                                   else datastore.name)
        self.datastore = datastore
        self.data_reference_name = data_reference_name
        self.path_on_datastore = path_on_datastore
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self.data_reference_name}"

    def __repr__(self) -> str:
        return (f"$AZUREML_DATAREFERENCE_{self.data_reference_name}"
                f" ({self.datastore.name}:{self.path_on_datastore or ''}, {self.mode})")

    def _with(self, **changes: Any) -> "DataReference":
        fields = dict(datastore=self.datastore, data_reference_name=self.data_reference_name,
                      path_on_datastore=self.path_on_datastore, mode=self.mode,
                      path_on_compute=self.path_on_compute, overwrite=self.overwrite)
        fields.update(changes)
        return DataReference(**fields)

    def as_mount(self) -> "DataReference":
        return self._with(mode="mount")

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> "DataReference":
        return self._with(mode="download", path_on_compute=path_on_compute, overwrite=overwrite)

    def as_upload(self, path_on_compute: str | None = None, overwrite: bool = False) -> "DataReference":
        return self._with(mode="upload", path_on_compute=path_on_compute, overwrite=overwrite)

    def path(self, path: str | None = None, data_reference_name: str | None = None) -> "DataReference":
        """A reference to `path` below this one."""
        joined = "/".join(p.strip("/") for p in (self.path_on_datastore, path) if p)
        return DataReference(self.datastore, data_reference_name, joined or None, self.mode,
                             self.path_on_compute, self.overwrite)

    def to_config(self) -> dict:
        return {"DataStoreName": self.datastore.name, "Mode": self.mode,
                "PathOnDataStore": self.path_on_datastore, "PathOnCompute": self.path_on_compute,
                "Overwrite": self.overwrite}

    @staticmethod
    def create(data_reference_name: str | None = None, datapath: "DataPath | None" = None,
               datapath_compute_binding: "DataPathComputeBinding | None" = None) -> "DataReference":
        binding = datapath_compute_binding or DataPathComputeBinding()
        return DataReference(datapath._datastore, data_reference_name, datapath.path_on_datastore,
                             binding.mode, binding.path_on_compute, binding.overwrite)

    def _input_source(self) -> InputSource:
        return InputSource("datastore", datastore=self.datastore.name,
                           path=normalize_datastore_path(self.path_on_datastore))


class DataPath:
    """A datastore and a path on it (for datapath pipeline parameters and datasets)."""

    def __init__(self, datastore: Any = None, path_on_datastore: str | None = None,
                 name: str | None = None) -> None:
        normalize_datastore_path(path_on_datastore, what="path_on_datastore")
        self._datastore = datastore
        self._path_on_datastore = path_on_datastore
        self._name = name

    @property
    def datastore_name(self) -> str | None:
        return self._datastore.name if self._datastore is not None else None

    @property
    def path_on_datastore(self) -> str | None:
        return self._path_on_datastore

    def create_data_reference(self, data_reference_name: str | None = None,
                              datapath_compute_binding: "DataPathComputeBinding | None" = None) -> DataReference:
        return DataReference.create(data_reference_name, self, datapath_compute_binding)

    def _as_parameter_value(self) -> dict[str, str | None]:
        """This DataPath as the value of a datapath pipeline parameter (what the run records)."""
        return {"datastore": self.datastore_name, "path": self._path_on_datastore}

    @staticmethod
    def create_from_data_reference(data_reference: DataReference) -> "DataPath":
        return DataPath(data_reference.datastore, data_reference.path_on_datastore)

    def __repr__(self) -> str:
        return f"DataPath({self.datastore_name}:{self._path_on_datastore or ''})"


class DataPathComputeBinding:
    """How a DataPath is made available to a step: mount or download, and where."""

    def __init__(self, mode: str = "mount", path_on_compute: str | None = None,
                 overwrite: bool = False) -> None:
        if mode not in _DATA_MODES:
            raise UserErrorException(f"Invalid mode {mode!r}: use one of {', '.join(_DATA_MODES)}")
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    def create_data_reference(self, data_reference_name: str | None = None,
                              datapath: DataPath | None = None) -> DataReference:
        return DataReference.create(data_reference_name, datapath, self)

    @staticmethod
    def create_from_data_reference(data_reference: DataReference) -> "DataPathComputeBinding":
        return DataPathComputeBinding(data_reference.mode, data_reference.path_on_compute,
                                      data_reference.overwrite)


def parameter_values(values: dict[str, Any]) -> dict[str, Any]:
    """Submitted pipeline parameter values as a run records them (a DataPath as its
    datastore and path)."""
    return {name: value._as_parameter_value() if isinstance(value, DataPath) else value
            for name, value in values.items()}


class FileDataset:
    """Files on one or more datastore paths, consumed by steps as a mount or download."""

    def __init__(self) -> None:
        self._paths: list[tuple[Any, str]] = []
        self._name: str | None = None
        self._id = str(uuid.uuid4())
        self._description: str | None = None
        self._tags: dict = {}
        self._partition_format: str | None = None
        self._filter: dict | None = None  # see runner.sdk.dataset_filter

    @classmethod
    def _from_paths(cls, paths: list[tuple[Any, str]],
                    partition_format: str | None = None) -> "FileDataset":
        ds = cls()
        ds._paths = paths
        ds._partition_format = partition_format
        return ds

    def __getitem__(self, column: str) -> Any:
        """A column (from `partition_format`, or `Path`) to build a `filter` condition with."""
        from runner.sdk.dataset_filter import ColumnExpression
        from store.datastore_partitions import PATH_COLUMN, PartitionFormat
        columns = (*(PartitionFormat.parse(self._partition_format).columns
                     if self._partition_format else ()), PATH_COLUMN)
        if column not in columns:
            raise KeyError(f"{column!r}: the dataset's columns are {', '.join(columns)} "
                           "(partition_format in from_files makes the others)")
        return ColumnExpression(column)

    def filter(self, expression: Any) -> "FileDataset":
        """A new, unregistered dataset with only the files `expression` lets through."""
        from runner.sdk.dataset_filter import FilterExpression
        if not isinstance(expression, FilterExpression):
            raise UserErrorException("filter takes a condition such as ds['country'] == 'BE', "
                                     f"not {expression!r}")
        spec = expression.to_json()
        if self._filter is not None:
            spec = {"op": "and", "args": [self._filter, spec]}
        ds = FileDataset._from_paths(list(self._paths), self._partition_format)
        ds._filter = spec
        return ds

    def _files(self) -> list[Any]:
        from runner.sdk.dataset_files import dataset_files
        return dataset_files(self._paths, self._partition_format, self._filter)

    def mount(self, mount_point: str | None = None, **kwargs: Any) -> Any:
        """A context that puts the dataset's files under `mount_point` (a temporary folder
        when None) from `start()` or `with` until `stop()`; see `MountContext`."""
        from runner.sdk.dataset_files import MountContext
        return MountContext(self._files(), mount_point)

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def id(self) -> str:
        return self._id

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def tags(self) -> dict:
        return dict(self._tags)

    def as_named_input(self, name: str) -> "DatasetConsumptionConfig":
        """Use this dataset as the step input `name`."""
        return DatasetConsumptionConfig(name, self)

    def as_mount(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return DatasetConsumptionConfig(f"input_{uuid.uuid4().hex[:8]}", self, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return DatasetConsumptionConfig(f"input_{uuid.uuid4().hex[:8]}", self, "download", path_on_compute)

    def to_path(self) -> list[str]:
        """The dataset's files, as paths relative to the dataset root."""
        return ["/" + f.relative_path for f in self._files()]

    def download(self, target_path: str | None = None, overwrite: bool = False,
                 ignore_not_found: bool = False) -> list[str]:
        """Copy the dataset's files into `target_path`; returns the local paths."""
        import shutil
        import tempfile
        target = Path(target_path or tempfile.mkdtemp())
        if not ignore_not_found:
            for datastore, path in self._paths:
                if not datastore._local_path(path).exists() and not any(ch in path for ch in "*?["):
                    raise UserErrorException(f"{datastore.name}:{path} does not exist")
        out = []
        for item in self._files():
            dest = target / item.relative_path
            if dest.exists() and not overwrite:
                raise UserErrorException(f"{dest} exists; pass overwrite=True")
            src = open_datastore_file(item.local_path)
            if src is None:
                continue  # not a regular file (a link or FIFO a step left there)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with src, open(dest, "wb") as copy:
                shutil.copyfileobj(src, copy)
            out.append(str(dest))
        return out

    def _input_source(self) -> InputSource:
        (datastore, path), *rest = self._paths
        if rest:
            raise UserErrorException("a FileDataset over several datastore paths cannot be "
                                     "consumed by a step locally yet; use one path")
        path = normalize_datastore_path(path)
        if _glob_folder(path) != path and not self._files():  # a glob: resolved when built
            raise UserErrorException(
                f"Dataset path {datastore.name}:{path} matches no files (looked below "
                f"{datastore._local_path(_glob_folder(path))}); check the pattern or upload the "
                "files first")
        if self._filter is not None:  # the step gets the selected files only
            return InputSource("datastore", datastore=datastore.name, path=path,
                               partition_format=self._partition_format, filter=self._filter)
        return InputSource("datastore", datastore=datastore.name, path=path)

    def __repr__(self) -> str:
        return "FileDataset(" + ", ".join(f"{d.name}:{p}" for d, p in self._paths) + ")"


def _glob_folder(path: str) -> str:
    """The folder before the first path segment with a wildcard (`path` itself without one)."""
    parts = path.split("/") if path else []
    for i, part in enumerate(parts):
        if set("*?[") & set(part):
            return "/".join(parts[:i])
    return path


def _dataset_path(item: Any) -> tuple[Any, str]:
    """(datastore, clean path) of one path argument of `from_files`."""
    if isinstance(item, DataPath):
        return item._datastore, normalize_datastore_path(item.path_on_datastore)
    if isinstance(item, DataReference):
        return item.datastore, normalize_datastore_path(item.path_on_datastore)
    if isinstance(item, tuple) and len(item) == 2:
        return item[0], normalize_datastore_path(item[1])
    if isinstance(item, str) and "://" in item:
        raise UserErrorException(
            f"{item}: datasets from URLs are not available locally (no network access "
            "to storage); upload the files to a datastore and use (datastore, path)")
    raise UserErrorException("from_files takes a DataPath, a DataReference (datastore.path(...)) "
                             f"or a (datastore, path) tuple, not {item!r}")


class FileDatasetFactory:
    """`Dataset.File`: builds FileDatasets."""

    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: str | None = None,
                   is_file: bool = False) -> FileDataset:
        """A FileDataset over a DataPath, a DataReference, a (datastore, path) tuple (paths may
        hold glob patterns), or a list of them. `validate` checks that each matches files."""
        items = path if isinstance(path, list) else [path]
        if partition_format is not None:
            from store.datastore_partitions import PartitionFormat
            PartitionFormat.parse(partition_format)
        dataset = FileDataset._from_paths([_dataset_path(item) for item in items], partition_format)
        if validate:
            for datastore, p in dataset._paths:
                if not FileDataset._from_paths([(datastore, p)])._files():
                    raise UserErrorException(
                        f"Dataset validation failed: {datastore.name}:{p} has no files "
                        f"(looked in {datastore._local_path(_glob_folder(p))})")
        return dataset


class Dataset:
    """The SDK's dataset entry point: `Dataset.File.from_files(...)`."""

    File = FileDatasetFactory

    def __init__(self, definition: Any, workspace: Any = None, name: str | None = None,
                 id: str | None = None) -> None:
        self.definition = definition
        self.workspace = workspace
        self.name = name
        self.id = id

    @staticmethod
    def from_sql_query(data_source: Any, query: str) -> Any:
        """Refused: SQL databases exist only in Azure (a cloud-only source)."""
        raise UserErrorException(
            "Dataset.from_sql_query: SQL databases are a cloud-only source amlocal cannot read; "
            "export the query's result to files on a datastore and use Dataset.File.from_files")


class DatasetConsumptionConfig:
    """How a step consumes a dataset: its input name and mode (direct, mount, download)."""

    def __init__(self, name: str, dataset: Any, mode: str = "direct",
                 path_on_compute: str | None = None) -> None:
        _check_dataset_name(name)
        if mode not in ("direct", "mount", "download"):
            raise UserErrorException(f"Invalid mode {mode!r}: use direct, mount or download")
        self._name = name
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = path_on_compute

    @property
    def name(self) -> str:
        return self._name

    def as_mount(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return DatasetConsumptionConfig(self._name, self.dataset, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return DatasetConsumptionConfig(self._name, self.dataset, "download", path_on_compute)

    def as_hdfs(self) -> "DatasetConsumptionConfig":
        raise UserErrorException("HDFS mode needs a Spark cluster; it is not available locally")

    def __str__(self) -> str:
        return f"DatasetConsumptionConfig:{self._name}"


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
        self._producer: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def arg_val(self) -> str:
        """What this output is in a step's arguments before it becomes a path (as in the SDK)."""
        return f"DatasetOutputConfig:{self._name}"

    def as_mount(self, disable_metadata_cache: bool = False) -> "OutputFileDatasetConfig":
        self.mode = "mount"
        return self

    def as_upload(self, overwrite: bool = False, source_globs: Any = None) -> "OutputFileDatasetConfig":
        self.mode = "upload"
        return self

    def as_input(self, name: str | None = None) -> "OutputDatasetInput":
        """Use this output as an input of a later step."""
        return OutputDatasetInput(self, name or f"input_{uuid.uuid4().hex[:8]}")

    def __str__(self) -> str:
        return f"DatasetOutputConfig:{self._name}"


class OutputDatasetInput:
    """An `OutputFileDatasetConfig` consumed by a later step (`as_input()`)."""

    def __init__(self, output: OutputFileDatasetConfig, name: str) -> None:
        self.output = output
        self.name = _check_dataset_name(name)
        self.mode = "mount"

    def __str__(self) -> str:
        return f"DatasetConsumptionConfig:{self.name}"
