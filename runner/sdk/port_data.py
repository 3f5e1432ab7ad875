"""`PortDataReference`: where a step run's output lives on its datastore, usable as an input."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.sdk.pipeline_data import InputPortBinding
from store.records import StoredOutput


class PortDataReference:
    """A step output on its datastore: `<datastore>/azureml/<step run id>/<output name>`."""

    def __init__(self, context: Any, pipeline_run_id: str, data_reference: StoredOutput,
                 step_run: Any = None) -> None:
        self._workspace = context
        self._pipeline_run_id = pipeline_run_id
        self._ref = data_reference
        self._step_run = step_run

    @property
    def name(self) -> str:
        return self._ref.name

    @property
    def datastore_name(self) -> str:
        return self._ref.datastore

    @property
    def datastore(self) -> Any:
        from runner.sdk.datastore import Datastore
        return Datastore(self._workspace, self.datastore_name)

    @property
    def path_on_datastore(self) -> str:
        return self._ref.path

    def download(self, local_path: str, overwrite: bool | None = None,
                 show_progress: bool | None = None) -> str:
        """Copy the output below `local_path`, keeping its datastore path; returns that folder."""
        self.datastore.download(local_path, prefix=self.path_on_datastore,
                                overwrite=bool(overwrite), show_progress=bool(show_progress))
        return str(Path(local_path) / self.path_on_datastore)

    def create_input_binding(self, input_name: str | None = None, mode: str | None = None,
                             path_on_compute: str | None = None,
                             overwrite: bool | None = None) -> InputPortBinding:
        """This output as an input of a step in another pipeline."""
        return InputPortBinding(input_name or self.name, self, mode or "mount", path_on_compute, overwrite)

    def as_input(self, input_name: str) -> InputPortBinding:
        return self.create_input_binding(input_name)

    def as_mount(self, input_name: str | None = None) -> InputPortBinding:
        return self.create_input_binding(input_name, "mount")

    def as_download(self, input_name: str | None = None, path_on_compute: str | None = None,
                    overwrite: bool | None = None) -> InputPortBinding:
        return self.create_input_binding(input_name, "download", path_on_compute, overwrite)

    def __repr__(self) -> str:
        return f"PortDataReference({self.datastore_name}:{self.path_on_datastore})"
