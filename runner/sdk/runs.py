"""`PipelineRun` and `StepRun`: reading runs back from the store, waiting and cancelling.

Both derive from `azureml.core.Run` (the step runtime's class) as in the SDK; their data
comes from SQLite and the run folders, never from the runner process.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Iterator

from runner.engine import liveness
from runner.engine.progress import ProgressPrinter
from runner.sdk.stored_run_api import PipelineRunApi, StepRunApi
from runner.step_runtime import Run
from runner.step_runtime.exceptions import ActivityFailedException, UserErrorException
from store import metrics as store_metrics
from store import runs as store_runs
from store import status as st
from store.artifacts import list_artifacts


def _utc(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _metrics_dict(conn: Any, run_id: str, name: str | None) -> dict[str, Any]:
    """The SDK's get_metrics shape: a value logged once is a scalar, more often a list."""
    grouped: dict[str, list[Any]] = {}
    for row in store_metrics.metric_history(conn, run_id, name):
        grouped.setdefault(row["name"], []).append(store_metrics.decode(row))
    return {n: values[0] if len(values) == 1 else values for n, values in grouped.items()}


class _StoredRun(Run):
    """What pipeline runs and step runs share: status, tags, properties, metrics, files."""

    _table = ""

    def __init__(self, experiment: Any, run_id: str, **kwargs: Any) -> None:
        super().__init__(experiment, run_id)

    @property
    def _conn(self) -> Any:
        return self._experiment.workspace._local.conn

    def _row(self) -> Any:
        raise NotImplementedError

    @property
    def status(self) -> str:
        return self.get_status()

    def get_status(self) -> str:
        return self._row()["status"]

    def get_tags(self) -> dict:
        return json.loads(self._row()["tags_json"])

    @property
    def tags(self) -> dict:
        return self.get_tags()

    def tag(self, key: str, value: Any = None) -> None:
        store_runs.update_run_json(self._conn, self._table, self.id, "tags_json",
                                   {key: "" if value is None else str(value)})

    def set_tags(self, tags: dict) -> None:
        store_runs.update_run_json(self._conn, self._table, self.id, "tags_json",
                                   {k: str(v) for k, v in tags.items()})

    def get_properties(self) -> dict:
        return json.loads(self._row()["properties_json"])

    @property
    def properties(self) -> dict:
        return self.get_properties()

    def add_properties(self, properties: dict) -> None:
        store_runs.update_run_json(self._conn, self._table, self.id, "properties_json",
                                   {k: str(v) for k, v in properties.items()})

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a metric on this run from outside a step (stored at once)."""
        import time
        if isinstance(value, (list, tuple, range, set)):
            raise UserErrorException(f"Metric {name}: log() takes a single value; use log_list()")
        store_metrics.insert_metrics(self._conn, [store_metrics.MetricPoint(
            self.id, name, "scalar", value, time.time())])

    def _artifacts(self) -> dict[str, Path]:
        """The files kept with this run (outputs, logs, uploads), for get_file_names & co."""
        return {row["name"]: Path(row["path"]) for row in list_artifacts(self._conn, self.id)}

    def wait_for_completion(self, show_output: bool = True, timeout_seconds: int = sys.maxsize,
                            raise_on_error: bool = True) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(Experiment: {self._experiment.name}, Id: {self.id}, " \
               f"Status: {self.get_status()})"


class PipelineRun(PipelineRunApi, _StoredRun):
    """A submitted pipeline run."""

    _table = "pipeline_run"

    def __init__(self, experiment: Any, run_id: str, _service_endpoint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(experiment, run_id)

    def _row(self) -> Any:
        row = store_runs.get_pipeline_run(self._conn, self.id)
        if row["status"] in st.ACTIVE and liveness.reconcile_run(self._conn, self.id):
            row = store_runs.get_pipeline_run(self._conn, self.id)
        return row

    @staticmethod
    def get(workspace: Any, run_id: str, _service_endpoint: Any = None) -> "PipelineRun":
        from runner.sdk.experiment import Experiment
        row = store_runs.get_pipeline_run(workspace._local.conn, run_id)
        return PipelineRun(Experiment(workspace, row["experiment_name"]), run_id)

    @property
    def parent(self) -> None:
        return None

    def get_details(self) -> dict:
        row = self._row()
        return {"runId": self.id, "status": row["status"], "startTimeUtc": _utc(row["start_time"]),
                "endTimeUtc": _utc(row["end_time"]), "properties": json.loads(row["properties_json"]),
                "tags": json.loads(row["tags_json"]), "error": row["error"],
                "parameters": json.loads(row["parameters_json"]),
                "experimentName": self._experiment.name,
                "runDefinition": {"continueOnStepFailure": bool(row["continue_on_step_failure"]),
                                  "regenerateOutputs": bool(row["regenerate_outputs"])}}

    def get_steps(self) -> Iterator["StepRun"]:
        """The step runs of this run, in dependency order."""
        for row in store_runs.get_step_runs(self._conn, self.id):
            yield StepRun(self._experiment, row["id"], self.id, row["node_id"])

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None,
                     type: Any = None, status: str | None = None) -> Iterator["StepRun"]:
        for step in self.get_steps():
            if status is None or step.get_status() == status:
                yield step

    def find_step_run(self, name: str) -> list["StepRun"]:
        """Step runs named `name` (names need not be unique, so this is a list)."""
        return [s for s in self.get_steps() if s.name == name]

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: Any = None,
                    populate: bool = False) -> dict:
        """This run's metrics; with recursive=True, {run id: metrics} for it and its steps."""
        if not recursive:
            return _metrics_dict(self._conn, self.id, name)
        out = {self.id: _metrics_dict(self._conn, self.id, name)}
        for step in self.get_steps():
            out[step.id] = _metrics_dict(self._conn, step.id, name)
        return out

    def get_graph(self) -> dict:
        from store.catalog import get_pipeline_spec
        return get_pipeline_spec(self._conn, self._row()["pipeline_id"])

    def cancel(self) -> None:
        """Stop the run: running steps get SIGTERM, then SIGKILL after a grace period."""
        print(liveness.cancel_run(self._conn, self.id))

    def publish_pipeline(self, name: str, description: str, version: str,
                         continue_on_step_failure: bool | None = None, **kwargs: Any) -> Any:
        from runner.sdk.pipeline import PublishedPipeline
        from store import catalog
        row = self._row()
        pub_id = catalog.publish_pipeline(self._conn, row["pipeline_id"], name, description,
                                          version, continue_on_step_failure)
        return PublishedPipeline.get(self._experiment.workspace, pub_id)

    def wait_for_completion(self, show_output: bool = True, timeout_seconds: int = sys.maxsize,
                            raise_on_error: bool = True) -> str:
        """Wait until the run ends, printing step progress and logs; returns the final status.

        Raises ActivityFailedException when the run failed and `raise_on_error` is set.
        """
        printer = ProgressPrinter(self._conn, self.id, out=sys.stdout if show_output else None)
        status = printer.follow(timeout_seconds, reconcile=lambda: self._row())
        if status == st.FAILED and raise_on_error:
            row = self._row()
            failed = [s for s in store_runs.get_step_runs(self._conn, self.id) if s["status"] == st.FAILED]
            detail = "; ".join(f"step {s['name']}: {s['error']}" for s in failed) or row["error"]
            raise ActivityFailedException(
                f"Activity Failed: pipeline run {self.id} failed: {detail}")
        return status


class StepRun(StepRunApi, _StoredRun):
    """One step of a pipeline run."""

    _table = "step_run"

    def __init__(self, experiment: Any, step_run_id: str, pipeline_run_id: str, node_id: str,
                 _service_endpoint: Any = None, _is_reused: bool = False,
                 _current_node_id: Any = None, _reused_run_id: Any = None,
                 _reused_node_id: Any = None, _reused_pipeline_run_id: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(experiment, step_run_id)
        self._pipeline_run_id = pipeline_run_id
        self._node_id = node_id

    def _row(self) -> Any:
        row = store_runs.get_step_run(self._conn, self.id)
        if row["status"] in st.ACTIVE and liveness.reconcile_run(self._conn, self._pipeline_run_id):
            row = store_runs.get_step_run(self._conn, self.id)
        return row

    @property
    def name(self) -> str:
        return self._row()["name"]

    @property
    def pipeline_run_id(self) -> str:
        return self._pipeline_run_id

    @property
    def parent(self) -> PipelineRun:
        return PipelineRun(self._experiment, self._pipeline_run_id)

    def get_properties(self) -> dict:
        """Step properties plus the pipeline run's `azureml.git.*` keys."""
        parent = json.loads(store_runs.get_pipeline_run(self._conn, self._pipeline_run_id)["properties_json"])
        git = {k: v for k, v in parent.items() if k.startswith(("azureml.git.", "mlflow.source."))}
        return {**git, **json.loads(self._row()["properties_json"])}

    def _log_paths(self) -> dict[str, Path]:
        run_dir = Path(self._row()["run_dir"])
        return {"azureml-logs/stdout.txt": run_dir / "stdout.txt",
                "azureml-logs/stderr.txt": run_dir / "stderr.txt"}

    def get_details(self) -> dict:
        row = self._row()
        return {"runId": self.id, "target": row["compute_target"], "status": row["status"],
                "startTimeUtc": _utc(row["start_time"]), "endTimeUtc": _utc(row["end_time"]),
                "properties": self.get_properties(), "tags": json.loads(row["tags_json"]),
                "error": row["error"], "exitCode": row["exit_code"], "executor": row["executor"],
                "runDefinition": {"arguments": json.loads(row["arguments_json"]),
                                  "nodeId": self._node_id, "name": row["name"]},
                "logFiles": {k: str(v) for k, v in self._log_paths().items()}}

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: Any = None,
                    populate: bool = False) -> dict:
        return _metrics_dict(self._conn, self.id, name)

    def _artifacts(self) -> dict[str, Path]:
        files = super()._artifacts()
        files.update({k: v for k, v in self._log_paths().items() if v.exists()})
        return files

    def get_stdout_log(self) -> str:
        path = self._log_paths()["azureml-logs/stdout.txt"]
        return path.read_text(errors="replace") if path.exists() else ""

    def get_stderr_log(self) -> str:
        path = self._log_paths()["azureml-logs/stderr.txt"]
        return path.read_text(errors="replace") if path.exists() else ""

    def get_job_log(self) -> str:
        return self.get_stdout_log() + self.get_stderr_log()

    def get_outputs(self) -> dict[str, "PortDataReference"]:
        outputs = json.loads(self._row()["outputs_json"])
        return {name: PortDataReference(self._experiment.workspace, self._pipeline_run_id, out, self)
                for name, out in outputs.items()}

    def get_output_data(self, name: str) -> "PortDataReference":
        """Where output `name` of this step lives on its datastore."""
        outputs = self.get_outputs()
        if name not in outputs:
            raise UserErrorException(f"step {self.name} has no output {name!r} "
                                     f"(outputs: {', '.join(outputs) or 'none'})")
        return outputs[name]

    def wait_for_completion(self, show_output: bool = True, timeout_seconds: int = sys.maxsize,
                            raise_on_error: bool = True) -> str:
        printer = ProgressPrinter(self._conn, self._pipeline_run_id,
                                  out=sys.stdout if show_output else None, only_step=self.id)
        printer.follow(timeout_seconds, reconcile=lambda: self._row())
        status = self.get_status()
        if status == st.FAILED and raise_on_error:
            raise ActivityFailedException(f"Activity Failed: step {self.name}: {self._row()['error']}")
        return status


class PortDataReference:
    """A step output on its datastore: `<datastore>/azureml/<step run id>/<output name>`."""

    def __init__(self, context: Any, pipeline_run_id: str, data_reference: dict,
                 step_run: Any = None) -> None:
        self._workspace = context
        self._pipeline_run_id = pipeline_run_id
        self._ref = data_reference
        self._step_run = step_run

    @property
    def name(self) -> str:
        return self._ref["name"]

    @property
    def datastore_name(self) -> str:
        return self._ref["datastore"]

    @property
    def datastore(self) -> Any:
        from runner.sdk.datastore import Datastore
        return Datastore(self._workspace, self.datastore_name)

    @property
    def path_on_datastore(self) -> str:
        return self._ref["path"]

    def download(self, local_path: str, overwrite: bool | None = None,
                 show_progress: bool | None = None) -> str:
        """Copy the output below `local_path`, keeping its datastore path; returns that folder."""
        self.datastore.download(local_path, prefix=self.path_on_datastore,
                                overwrite=bool(overwrite), show_progress=bool(show_progress))
        return str(Path(local_path) / self.path_on_datastore)

    def create_input_binding(self, input_name: str | None = None, mode: str | None = None,
                             path_on_compute: str | None = None, overwrite: bool | None = None) -> Any:
        from runner.sdk.pipeline_data import InputPortBinding
        return InputPortBinding(input_name or self.name, self, mode or "mount", path_on_compute, overwrite)

    def as_input(self, input_name: str) -> Any:
        return self.create_input_binding(input_name)

    def as_mount(self, input_name: str | None = None) -> Any:
        return self.create_input_binding(input_name, "mount")

    def as_download(self, input_name: str | None = None, path_on_compute: str | None = None,
                    overwrite: bool | None = None) -> Any:
        return self.create_input_binding(input_name, "download", path_on_compute, overwrite)

    def __repr__(self) -> str:
        return f"PortDataReference({self.datastore_name}:{self.path_on_datastore})"


def get_run(workspace: Any, run_id: str) -> _StoredRun:
    """A pipeline run or step run by id."""
    from runner.sdk.experiment import Experiment
    conn = workspace._local.conn
    row = conn.execute("SELECT r.id, e.name FROM pipeline_run r JOIN experiment e "
                       "ON e.id = r.experiment_id WHERE r.id = ?", (run_id,)).fetchone()
    if row:
        return PipelineRun(Experiment(workspace, row[1]), run_id)
    step = store_runs.get_step_run(conn, run_id)
    parent = store_runs.get_pipeline_run(conn, step["pipeline_run_id"])
    return StepRun(Experiment(workspace, parent["experiment_name"]), run_id,
                   step["pipeline_run_id"], step["node_id"])
