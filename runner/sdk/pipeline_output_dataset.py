"""PipelineData promoted to a dataset (`PipelineData.as_dataset()`,
`azureml.pipeline.core.pipeline_output_dataset`).

The producing step lists the promoted object in `outputs` (and may `register` it); later
steps list it, or `parse_delimited_files()` / `parse_parquet_files()` of it, in `inputs`. A
consumer then gets a dataset input named `input_name` (the PipelineData's output name unless
`as_named_input` says otherwise): a path in mount and download modes, a FileDataset in
direct mode, a TabularDataset after a parse. Every method returns a changed copy, as in
the SDK; copies share the PipelineData and so its producer.
"""
from __future__ import annotations

import copy
from typing import Any

from runner.sdk.output_datasets import dataset_template
from runner.step_runtime.dataset_factory import delimited_read, parquet_read


def _extension_glob(file_extension: str | None) -> str | None:
    """The glob of files with `file_extension` anywhere below the folder (None: every file)."""
    if not file_extension:
        return None
    extension = file_extension if file_extension.startswith(".") else "." + file_extension
    return f"**/*{extension}"


class PipelineOutputAbstractDataset:
    """The base of PipelineData promoted to a dataset: its input name, mode and registration."""

    _KIND = "file"

    def __init__(self, pipeline_data: Any) -> None:
        self._pipeline_data = pipeline_data
        self._registration_name: str | None = None
        self._create_new_version: bool | None = None
        self._input_mode = "mount"
        self._input_name = pipeline_data._output_name
        self._input_path_on_compute: str | None = None

    def _clone(self) -> Any:
        return copy.copy(self)

    def register(self, name: str, create_new_version: bool = True) -> Any:
        """A copy registered as dataset `name` when the producing step succeeds (as an output;
        in `inputs` it registers nothing, as in the SDK)."""
        other = self._clone()
        other._registration_name = name
        other._create_new_version = create_new_version
        return other

    def as_named_input(self, name: str) -> Any:
        """A copy that later steps see as the dataset input `name`."""
        other = self._clone()
        other._input_name = name
        return other

    @property
    def name(self) -> str:
        """The output name of the PipelineData."""
        return self._pipeline_data._output_name

    @property
    def input_name(self) -> str:
        """The name a consuming step finds it under (`run.input_datasets[name]`)."""
        return self._input_name

    @property
    def _producer(self) -> Any:
        return self._pipeline_data._producer

    def _set_producer(self, step: Any) -> None:
        self._pipeline_data._set_producer(step)

    def _template(self) -> dict[str, Any]:
        return dataset_template("file")

    def _register_spec(self) -> dict[str, Any] | None:
        """What `OutputSpec.register` records for this output, or None."""
        if self._registration_name is None:
            return None
        return {"name": self._registration_name, "description": None, "tags": {},
                "dataset": dataset_template("file"),
                "create_new_version": bool(self._create_new_version)}

    def __str__(self) -> str:
        return str(self._pipeline_data)


class PipelineOutputFileDataset(PipelineOutputAbstractDataset):
    """PipelineData promoted to a FileDataset."""

    def as_download(self, path_on_compute: str | None = None) -> "PipelineOutputFileDataset":
        return self._set_mode("download", path_on_compute)

    def as_mount(self, path_on_compute: str | None = None) -> "PipelineOutputFileDataset":
        return self._set_mode("mount", path_on_compute)

    def as_direct(self) -> "PipelineOutputFileDataset":
        """A copy consumed as a FileDataset object (`run.input_datasets[name]`)."""
        return self._set_mode("direct", None)

    def _set_mode(self, mode: str, path_on_compute: str | None) -> "PipelineOutputFileDataset":
        other = self._clone()
        other._input_mode = mode
        other._input_path_on_compute = path_on_compute
        return other

    def parse_delimited_files(self, include_path: bool = False, separator: str = ",",
                              header: Any = "all_files_same_headers",
                              partition_format: str | None = None, file_extension: str | None = "",
                              set_column_types: Any = None,
                              quoted_line_breaks: bool = False) -> "PipelineOutputTabularDataset":
        """Later steps read the files as a table. `file_extension` "" means `.csv` for ',',
        `.tsv` for a tab and every file otherwise; None means every file."""
        if file_extension == "":
            file_extension = {",": ".csv", "\t": ".tsv"}.get(separator)
        read = delimited_read(include_path=include_path, infer_column_types=False,
                              set_column_types=set_column_types, separator=separator,
                              header=header, support_multi_line=bool(quoted_line_breaks))
        return PipelineOutputTabularDataset(self, dataset_template(
            "tabular", read=read, partition_format=partition_format,
            path_glob=_extension_glob(file_extension)))

    def parse_parquet_files(self, include_path: bool = False, partition_format: str | None = None,
                            file_extension: str | None = ".parquet",
                            set_column_types: Any = None) -> "PipelineOutputTabularDataset":
        """Later steps read the Parquet files as a table."""
        read = parquet_read(include_path=include_path, set_column_types=set_column_types)
        return PipelineOutputTabularDataset(self, dataset_template(
            "tabular", read=read, partition_format=partition_format,
            path_glob=_extension_glob(file_extension)))


class PipelineOutputTabularDataset(PipelineOutputAbstractDataset):
    """PipelineData promoted to a TabularDataset (consumed in direct mode only)."""

    _KIND = "tabular"

    def __init__(self, pipeline_output_dataset: PipelineOutputFileDataset,
                 additional_transformations: Any) -> None:
        if not additional_transformations:
            raise ValueError("Argument additional_transformation cannot be empty or None")
        super().__init__(pipeline_output_dataset._pipeline_data)
        self._input_name = pipeline_output_dataset._input_name
        self._registration_name = pipeline_output_dataset._registration_name
        self._create_new_version = pipeline_output_dataset._create_new_version
        self._pipeline_output_dataset = pipeline_output_dataset
        self._tabular = additional_transformations
        self._input_mode = "direct"

    def keep_columns(self, columns: Any) -> "PipelineOutputTabularDataset":
        return self._with_transform({"op": "keep_columns", "columns": _names(columns),
                                     "validate": False})

    def drop_columns(self, columns: Any) -> "PipelineOutputTabularDataset":
        return self._with_transform({"op": "drop_columns", "columns": _names(columns)})

    def _with_transform(self, transform: dict[str, Any]) -> "PipelineOutputTabularDataset":
        template = copy.deepcopy(self._tabular)
        template["transforms"] = [*template.get("transforms", []), transform]
        other = self._clone()
        other._tabular = template
        return other

    def _template(self) -> dict[str, Any]:
        return copy.deepcopy(self._tabular)


def _names(columns: Any) -> list[str]:
    from runner.sdk.output_datasets import _names as names
    return names(columns)
