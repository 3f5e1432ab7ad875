"""How a step consumes a dataset (`azureml.data.dataset_consumption_config`): its input name
and mode. The dataset may be a FileDataset or TabularDataset, a dataset PipelineParameter,
or a step's dataset output (`OutputTabularDatasetConfig.as_input`)."""
from __future__ import annotations

import re
from typing import Any

from runner.step_runtime.exceptions import UserErrorException

_DATASET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_dataset_name(name: str) -> str:
    if not isinstance(name, str) or not _DATASET_NAME.match(name):
        raise UserErrorException(
            f"Invalid name {name!r}: a dataset input or output name must start with a letter or "
            "'_' and contain only letters, digits and '_'")
    return name


class DatasetConsumptionConfig:
    """How a step consumes a dataset: its input name and mode (direct, mount, download)."""

    def __init__(self, name: str, dataset: Any, mode: str = "direct",
                 path_on_compute: str | None = None) -> None:
        _check_dataset_name(name)
        if mode not in ("direct", "mount", "download"):
            raise UserErrorException(f"Invalid mode {mode!r}: use direct, mount or download")
        shown = dataset
        if hasattr(dataset, "default_value"):  # a PipelineParameter: its default says the kind
            shown = dataset.default_value
            if not hasattr(shown, "_dataset_view"):  # a FileDataset or TabularDataset
                raise UserErrorException(
                    f"Invalid PipelineParameter with default value '{shown}. Default value must "
                    "be of types: FileDataset or TabularDataset")
        if mode != "direct" and getattr(shown, "_KIND", None) == "tabular":
            raise UserErrorException(f"{type(shown).__name__} does not support {mode}. Only "
                                     f"FileDataset supports {mode}")
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
