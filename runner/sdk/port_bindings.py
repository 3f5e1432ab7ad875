"""`OutputPortBinding` (a named step output, consumed through `InputPortBinding`) and
`TrainingOutput` (which training artifact an output carries), as in the SDK's graph module."""
from __future__ import annotations

from typing import Any

from runner.sdk.pipeline_data import PipelineData

_LOCAL_MODES = ("mount", "upload")


class OutputPortBinding(PipelineData):
    """A step output described by name, datastore and mode; a later step reads it through
    `InputPortBinding(name, bind_object=this)`. It lives where a PipelineData output would:
    `<datastore>/azureml/<step run id>/<output_name>`."""

    def __init__(self, name: str, datastore: Any = None, output_name: str | None = None,
                 bind_mode: str = "mount", path_on_compute: str | None = None,
                 is_directory: bool | None = None, overwrite: bool | None = None,
                 data_type: str | None = None, pipeline_output_name: str | None = None,
                 training_output: "TrainingOutput | None" = None, dataset_registration: Any = None,
                 dataset_output: Any = None) -> None:
        if bind_mode in ("hdfs", "link"):
            raise ValueError(f"bind_mode {bind_mode!r} needs Azure (HDFS or a linked dataset); "
                             "use 'mount' or 'upload' locally")
        if bind_mode not in _LOCAL_MODES:
            raise ValueError("Invalid bind_mode " + str(bind_mode))
        super().__init__(name, datastore=datastore, output_name=output_name, output_mode=bind_mode,
                         output_path_on_compute=path_on_compute, output_overwrite=overwrite,
                         data_type=data_type, is_directory=is_directory,
                         pipeline_output_name=pipeline_output_name, training_output=training_output)
        self._training_output = training_output
        self._dataset_registration = dataset_registration
        self._dataset_output = dataset_output

    @property
    def bind_mode(self) -> str:
        """How the producing step writes the data: "mount" or "upload"."""
        return self._output_mode

    @property
    def datastore(self) -> Any:
        return self._datastore

    @datastore.setter
    def datastore(self, value: Any) -> None:
        self._datastore = value

    @property
    def path_on_compute(self) -> str | None:
        """For "upload": where the step writes the output, relative to its working directory."""
        return self._output_path_on_compute

    @property
    def is_directory(self) -> bool | None:
        return self._is_directory

    @property
    def overwrite(self) -> bool | None:
        return self._output_overwrite

    @property
    def pipeline_output_name(self) -> str | None:
        """The name `PipelineRun.get_pipeline_output(name)` finds this output by."""
        return self._pipeline_output_name

    @property
    def training_output(self) -> "TrainingOutput | None":
        return self._training_output

    @property
    def dataset_registration(self) -> Any:
        return self._dataset_registration


class TrainingOutput:
    """Which training artifact an output holds: "Metrics", or a "Model" (of one `iteration`
    or chosen by `metric`, optionally one `model_file`), as AutoML and HyperDrive steps use it."""

    def __init__(self, type: str, iteration: int | None = None, metric: str | None = None,
                 model_file: str | None = None) -> None:
        kind = str(type).lower()
        if kind == "metrics":
            if iteration or metric:
                raise ValueError("Iteration and metric shouldn't be provided for output type: Metrics")
        elif kind == "model":
            if iteration and metric:
                raise ValueError("Both iteration and metric cannot be provided for output type: Model")
        else:
            raise ValueError(f"Unknown training output type has been provided: {type}")
        self._type = type
        self._iteration = iteration
        self._metric = metric
        self._model_file = model_file

    @property
    def type(self) -> str:
        return self._type

    @property
    def iteration(self) -> int | None:
        return self._iteration

    @property
    def metric(self) -> str | None:
        return self._metric

    @property
    def model_file(self) -> str | None:
        return self._model_file

    def __repr__(self) -> str:
        return f"TrainingOutput(type={self._type!r})"
