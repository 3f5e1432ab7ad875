"""Intermediate data between steps (`PipelineData`, input bindings) and `PipelineParameter`."""
from __future__ import annotations

import re
from typing import Any

from store.datastore_paths import check_name

_WORD = re.compile(r"^\w+$")


class PipelineData:
    """Data one step writes and later steps read; lives at
    `<datastore>/azureml/<producer step run id>/<output_name>`."""

    def __init__(self, name: str, datastore: Any = None, output_name: str | None = None,
                 output_mode: str = "mount", output_path_on_compute: str | None = None,
                 output_overwrite: bool | None = None, data_type: str | None = None,
                 is_directory: bool | None = None, pipeline_output_name: str | None = None,
                 training_output: Any = None) -> None:
        if not name:
            raise ValueError("PipelineData name cannot be empty")
        if not _WORD.match(name):
            raise ValueError(f"PipelineData name: [{name}] is not a valid, it must only contain "
                             "letters, digits and '_'")
        output_name = output_name or name
        if not _WORD.match(output_name):
            raise ValueError(f"PipelineData output_name: [{output_name}] is not valid, it must "
                             "only contain letters, digits and '_'")
        check_name(output_name, what="output_name")
        if output_mode not in ("mount", "upload"):
            raise ValueError(f"Invalid output mode [{output_mode}]: use mount or upload")
        self._name = name
        self._datastore = datastore
        self._output_name = output_name
        self._output_mode = output_mode
        self._output_path_on_compute = output_path_on_compute
        self._output_overwrite = output_overwrite
        self._data_type = data_type or "AnyDirectory"
        self._is_directory = is_directory
        self._pipeline_output_name = pipeline_output_name
        self._producer: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def datastore(self) -> Any:
        return self._datastore

    @property
    def data_type(self) -> str:
        return self._data_type

    def _set_producer(self, step: Any) -> None:
        self._producer = step

    def as_dataset(self) -> Any:
        """This output promoted to a FileDataset: list the returned object in the producer's
        outputs and in later steps' inputs (see `pipeline_output_dataset`)."""
        from runner.sdk.pipeline_output_dataset import PipelineOutputFileDataset
        return PipelineOutputFileDataset(self)

    def get_env_variable_name(self) -> str:
        return f"AZUREML_DATAREFERENCE_{self._name}"

    def as_input(self, input_name: str) -> "InputPortBinding":
        return self.create_input_binding(input_name)

    def as_mount(self, input_name: str | None = None) -> "InputPortBinding":
        return self.create_input_binding(input_name, mode="mount")

    def as_download(self, input_name: str | None = None, path_on_compute: str | None = None,
                    overwrite: bool | None = None) -> "InputPortBinding":
        return self.create_input_binding(input_name, "download", path_on_compute, overwrite)

    def create_input_binding(self, input_name: str | None = None, mode: str | None = None,
                             path_on_compute: str | None = None,
                             overwrite: bool | None = None) -> "InputPortBinding":
        """How a consuming step sees this data: port name, mode and path."""
        return InputPortBinding(input_name or self._name, self, mode or "mount", path_on_compute,
                                overwrite)

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self._output_name}"

    __repr__ = __str__


class InputPortBinding:
    """A step input bound to a PipelineData (or step output) under a port name."""

    def __init__(self, name: str, bind_object: Any, bind_mode: str = "mount",
                 path_on_compute: str | None = None, overwrite: bool | None = None,
                 is_resource: bool = False, additional_transformations: Any = None,
                 **kwargs: Any) -> None:
        if not _WORD.match(name or ""):
            raise ValueError(f"input name [{name}] must only contain letters, digits and '_'")
        if bind_mode not in ("mount", "download", "direct"):
            raise ValueError(f"Invalid input mode [{bind_mode}]: use mount or download")
        self._name = name
        self.bind_object = bind_object
        self.bind_mode = bind_mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    @property
    def name(self) -> str:
        return self._name

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self._name}"

    __repr__ = __str__


_ALLOWED_DEFAULTS = (int, str, bool, float)


class PipelineParameter:
    """A value chosen at submission (`pipeline_parameters=`), with a default."""

    def __init__(self, name: str, default_value: Any) -> None:
        from runner.sdk.data import DataPath, HostDatasetInputs
        if not isinstance(default_value, (*_ALLOWED_DEFAULTS, DataPath, HostDatasetInputs)):
            raise ValueError(
                f"Default value is of unsupported type: {type(default_value).__name__}, "
                "supported types are: int, str, bool, float, DataPath, FileDataset, "
                "TabularDataset")
        self.name = name
        self.default_value = default_value

    @property
    def env_name(self) -> str:
        """The step environment variable that carries this parameter."""
        return "AML_PARAMETER_" + re.sub(r"[~\W]", "_", self.name)

    def __str__(self) -> str:
        return f"PipelineParameter_Name:{self.name}_Default:{self.default_value}"

    __repr__ = __str__


def is_datapath_input(obj: Any) -> bool:
    """Whether `obj` is the SDK's `(PipelineParameter(DataPath), DataPathComputeBinding)` step
    input: a datapath parameter, bound in a mode."""
    from runner.sdk.data import DataPathComputeBinding
    return (isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], PipelineParameter)
            and isinstance(obj[1], DataPathComputeBinding))
