"""The parts of the SDK's Run API that pipeline and step runs answer from the store.

`runner.sdk.runs` reads status, tags, metrics and files; these mixins add what the SDK offers
on top: names and links, logs with their content, a step run's outputs as `StepRunOutput`, its
snapshot and environment, and a pipeline run's named pipeline outputs.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from runner.sdk.spec_file import save_spec
from runner.sdk.step_run_output import StepRunOutput
from runner.spec import PipelineSpec, StepSpec
from runner.step_runtime.exceptions import UserErrorException
from store import tags as store_tags
from store.runs import list_pipeline_runs


class StoredRunApi:
    """What pipeline runs and step runs share beyond status, tags and metrics."""

    _experiment: Any
    id: str

    def _portal_workspace(self) -> tuple[str, str, str]:
        ws = self._experiment.workspace
        return ws.subscription_id, ws.resource_group, ws.name

    def _log_paths(self) -> dict[str, Path]:
        """Log name → file, for `get_details_with_logs` and `get_all_logs`."""
        raise NotImplementedError

    def remove_tags(self, tags: list[str]) -> None:
        """Remove the tags named in `tags` from this run."""
        store_tags.remove_tags(self._conn, self._table, self.id, list(tags))  # type: ignore[attr-defined]

    def get_details_with_logs(self) -> dict[str, Any]:
        """`get_details()` with `logFiles` mapping each log's name to its content."""
        details = self.get_details()  # type: ignore[attr-defined]
        details["logFiles"] = {name: path.read_text(errors="replace")
                               for name, path in self._log_paths().items() if path.is_file()}
        return details

    def get_all_logs(self, destination: str | None = None) -> list[str]:
        """Write every log of the run below `destination` (default `assets/<run id>` here);
        returns the paths written."""
        if destination and os.path.exists(destination) and not os.path.isdir(destination):
            raise UserErrorException(f"{destination} exists and is not a directory.")
        folder = Path(destination or os.path.join(os.getcwd(), "assets", self.id))
        written = []
        for name, content in self.get_details_with_logs()["logFiles"].items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            written.append(str(target))
        return written


class PipelineRunApi(StoredRunApi):
    """`PipelineRun` extras: its name, pipeline outputs, the runs of a published pipeline."""

    _SDK_QUALNAME = "azureml.pipeline.core.run.PipelineRun"

    def _spec(self) -> PipelineSpec:
        return self.get_graph()  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        """The pipeline's description, else the experiment's name (what Azure shows)."""
        return self._spec().description or self._experiment.name

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def description(self) -> str | None:
        return self._spec().description

    @property
    def type(self) -> str:
        return "azureml.PipelineRun"

    def _log_paths(self) -> dict[str, Path]:
        return {"azureml-logs/runner.log":  # type: ignore[attr-defined]
                self._experiment.workspace._local.layout.runner_log(self.id)}

    def get_pipeline_output(self, pipeline_output_name: str) -> Any:
        """The PortDataReference of the output declared with `pipeline_output_name=`."""
        steps = self._spec().steps
        for step in steps:
            for out in step.outputs:
                if out.pipeline_output_name == pipeline_output_name:
                    for step_run in self.get_steps():  # type: ignore[attr-defined]
                        if step_run._node_id == step.node_id:
                            return step_run.get_output_data(out.port)
        declared = sorted(o.pipeline_output_name for s in steps for o in s.outputs
                          if o.pipeline_output_name)
        raise UserErrorException(f"pipeline run {self.id} has no pipeline output "
                                 f"{pipeline_output_name!r} (declared: {', '.join(declared) or 'none'})")

    @staticmethod
    def get_pipeline_runs(workspace: Any, pipeline_id: str, _service_endpoint: Any = None) -> list[Any]:
        """The runs submitted from the published pipeline `pipeline_id`, newest first."""
        return [workspace.get_run(run.id) for run in list_pipeline_runs(workspace._local.conn)
                if run.published_pipeline_id == pipeline_id]

    def save(self, path: str | None = None) -> str:
        """Write the run's pipeline definition to `path` (a folder: `<path>/pipeline.yml`)."""
        return save_spec(self._spec().to_json(), path, "pipeline.yml")


class StepRunApi(StoredRunApi):
    """`StepRun` extras: outputs as StepRunOutput, snapshot, environment."""

    _SDK_QUALNAME = "azureml.pipeline.core.run.StepRun"
    _pipeline_run_id: str
    _node_id: str

    @property
    def display_name(self) -> str:
        return self.name  # type: ignore[attr-defined]

    @property
    def type(self) -> str:
        return "azureml.StepRun"

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None,
                     type: Any = None, status: str | None = None, _rehydrate_runs: bool = True) -> list:
        """A step run's child runs: none, as a step cannot start child runs locally."""
        return []

    def get_output(self, name: str) -> StepRunOutput:
        """Output `name` of this step; `.get_port_data_reference()` says where it lives."""
        return StepRunOutput(self._experiment.workspace, self._pipeline_run_id, self, name,
                             self.get_output_data(name))  # type: ignore[attr-defined]

    def _step_spec(self) -> StepSpec:
        return self.parent.get_graph().step(self._node_id)  # type: ignore[attr-defined]

    def get_snapshot_id(self) -> str | None:
        """The id of the source snapshot this step ran (None until it was taken)."""
        return self._record().snapshot_id  # type: ignore[attr-defined]

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | None = None) -> str:
        """Write the step's source snapshot (or `snapshot_id`) as a ZIP file; returns its path."""
        from store.snapshots import SnapshotStore
        snapshot = snapshot_id or self.get_snapshot_id()
        if snapshot is None:
            raise UserErrorException(f"step run {self.id} has no snapshot (it did not run)")
        local = self._experiment.workspace._local
        target = Path(path or os.path.join(os.getcwd(), f"{snapshot}.zip"))
        with tempfile.TemporaryDirectory() as tmp:
            SnapshotStore(local.layout.snapshots_dir, local.conn).materialize(snapshot, Path(tmp) / "s")
            archive = shutil.make_archive(str(Path(tmp) / "snapshot"), "zip", Path(tmp) / "s")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(archive, target)
        return str(target)

    def get_environment(self) -> Any:
        """The Environment this step ran with, rebuilt from the recorded definition."""
        from runner.sdk.environment import Environment
        runconfig = self._step_spec().runconfig
        if runconfig is None:
            raise UserErrorException("There is no run definition or environment specified for the run.")
        return Environment._from_spec(runconfig.environment.to_json())
