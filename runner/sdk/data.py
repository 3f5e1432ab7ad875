"""Data the steps read: DataReference, DataPath, file datasets and dataset outputs.

Each object knows how it appears in a PipelineSpec (`_input_source`); the runner turns that
into a real path for the step. Paths on a datastore never leave it.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from runner.sdk.dataset_consumption import DatasetConsumptionConfig, _check_dataset_name  # noqa: F401
from runner.sdk.output_datasets import (OutputDatasetInput, OutputFileDatasetConfig,  # noqa: F401
                                        OutputTabularDatasetConfig)
from runner.spec import InputSource
from runner.step_runtime import dataset_factory as step_factory
from runner.step_runtime.dataset_factory import glob_folder
from runner.step_runtime import file_dataset as step_datasets
from runner.step_runtime.exceptions import UserErrorException
from store.datastore_paths import normalize_datastore_path, open_datastore_file

_DATA_MODES = ("mount", "download", "upload")


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
    datastore and path, a dataset as its definition and registered id)."""
    return {name: value._as_parameter_value()
            if isinstance(value, (DataPath, HostDatasetInputs)) else value
            for name, value in values.items()}


class HostDatasetInputs:
    """What a dataset offers a pipeline script on top of its data: being a step input
    (`as_named_input`, `as_mount`, `as_download`) and how the PipelineSpec records that."""

    _definition: dict[str, Any]
    _registration: dict[str, Any] | None

    def as_named_input(self, name: str) -> "DatasetConsumptionConfig":
        """Use this dataset as the step input `name` (in a step, `run.input_datasets[name]`)."""
        return DatasetConsumptionConfig(name, self)

    def _dataset_view(self, direct: bool) -> dict[str, Any]:
        """What the step is told about this input (see `InputSpec.dataset_view`)."""
        registration = self._registration
        return {"definition": self._definition, "direct": direct,
                "asset_id": registration["id"] if registration else None,
                "asset": f"{registration['name']} v{registration['version']}" if registration else None}

    def _as_parameter_value(self) -> dict[str, Any]:
        """This dataset as the value of a dataset pipeline parameter (what the run records);
        refused when no step could read it."""
        self._input_source()
        return {"dataset": self._definition,
                "asset_id": self._registration["id"] if self._registration else None}

    def _input_source(self) -> InputSource:
        sources = self._definition.get("sources", [])
        if len(sources) != 1:
            raise UserErrorException("a dataset over several datastore paths cannot be "
                                     "consumed by a step locally yet; use one path")
        source = sources[0]
        if source.get("folder") is not None:
            raise UserErrorException("a dataset in a local folder cannot be a step input; "
                                     "upload its files to a datastore first")
        datastore, path = source["datastore"], normalize_datastore_path(source["path"])
        if glob_folder(path) != path and not self._listed_files():  # resolved when built
            raise UserErrorException(
                f"Dataset path {datastore}:{path} matches no files (looked below "
                f"{self._source_root(source) / glob_folder(path)}); check the pattern or upload "
                "the files first")
        if self._definition.get("filter") is not None:  # the step gets the selected files only
            return InputSource("datastore", datastore=datastore, path=path,
                               partition_format=self._definition.get("partition_format"),
                               filter=self._definition["filter"])
        return InputSource("datastore", datastore=datastore, path=path)


class FileDataset(HostDatasetInputs, step_datasets.FileDataset):
    """Files on one or more datastore paths, consumed by steps as a mount or download."""

    def as_mount(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return DatasetConsumptionConfig(f"input_{uuid.uuid4().hex[:8]}", self, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return DatasetConsumptionConfig(f"input_{uuid.uuid4().hex[:8]}", self, "download", path_on_compute)


FileDatasetFactory = step_factory.FileDatasetFactory
TabularDatasetFactory = step_factory.TabularDatasetFactory


class Dataset(step_factory.Dataset):
    """The SDK's dataset entry point: `Dataset.File.from_files(...)`,
    `Dataset.Tabular.from_delimited_files(...)`, `Dataset.get_by_name(ws, name)`."""

    def __init__(self, definition: Any, workspace: Any = None, name: str | None = None,
                 id: str | None = None) -> None:
        self.definition = definition
        self.workspace = workspace
        self.name = name
        self.id = id
