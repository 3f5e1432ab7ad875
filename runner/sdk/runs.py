"""`PipelineRun` and `StepRun`: reading runs back from the store, waiting and cancelling.

Both derive from `azureml.core.Run` (the step runtime's class) as in the SDK; their data
comes from the store's records and the run folders, never from the runner process. What is
logged to them from outside a step (`log`, `log_row`, `tag`, …) is stored at once.
"""
from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from runner.client import Client, scope_defaults
from runner.engine import liveness
from runner.engine.progress import ProgressPrinter
from runner.sdk.port_data import PortDataReference
from runner.spec import PipelineSpec
from runner.sdk.stored_run_api import PipelineRunApi, StepRunApi
from runner.step_runtime import Run
from runner.step_runtime.exceptions import ActivityFailedException, UserErrorException
from store import metrics as store_metrics
from store import runs as store_runs
from store import status as st
from store.artifacts import list_artifacts, record_artifacts
from store.catalog import get_pipeline, publish_pipeline
from store.errors import StoreError
from store.layout import StepRunFiles
from store.nofollow import copy_file_out, read_log
from store.records import PipelineRunRecord, StepRunRecord

_METRIC_KINDS = ("scalar", "list", "row", "table", "image")


def _utc(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _metrics_dict(conn: Any, run_id: str, name: str | None) -> dict[str, Any]:
    """The SDK's get_metrics shape: a value logged once is a scalar, more often a list."""
    grouped: dict[str, list[Any]] = {}
    for value in store_metrics.metric_history(conn, run_id, name):
        grouped.setdefault(value.name, []).append(value.value)
    return {n: values[0] if len(values) == 1 else values for n, values in grouped.items()}


def _waits() -> bool:
    """Whether `wait_for_completion` waits: not in a submission scope with `no_wait`
    (`amlocal run --no-wait`), where the script's own waits return at once."""
    defaults = scope_defaults()
    return defaults is None or not defaults.no_wait


class _StoredRun(Run):
    """What pipeline runs and step runs share: status, tags, properties, metrics, files."""

    def __init__(self, experiment: Any, run_id: str, **kwargs: Any) -> None:
        super().__init__(experiment, run_id)

    @property
    def _local(self) -> Any:
        return self._experiment.workspace._local

    @property
    def _conn(self) -> Any:
        return self._local.conn

    def _record(self) -> PipelineRunRecord | StepRunRecord:
        raise NotImplementedError

    @property
    def status(self) -> str:
        return self.get_status()

    def get_status(self) -> str:
        return self._record().status

    def get_tags(self) -> dict:
        return dict(self._record().tags)

    @property
    def tags(self) -> dict:
        return self.get_tags()

    def get_properties(self) -> dict:
        return dict(self._record().properties)

    @property
    def properties(self) -> dict:
        return self.get_properties()

    def _write_event(self, kind: str, name: str, value: Any) -> None:
        """Store what is logged to this run from outside a step, at once."""
        if kind in _METRIC_KINDS:
            store_metrics.insert_metrics(self._conn, [(self.id, name, kind, value, time.time())])
        elif kind in ("tag", "property"):
            store_runs.merge_run_json(self._conn, self.id, kind + "s", {name: str(value)})
        elif kind == "artifact":
            record_artifacts(self._conn, self.id, [(name, Path(self._artifact_target(name)))])

    def _artifact_target(self, name: str) -> str:
        self._artifacts_dir = str(self._artifacts_folder())
        return super()._artifact_target(name)

    def _artifacts_folder(self) -> Path:
        raise NotImplementedError

    def _artifacts(self) -> dict[str, Path]:
        """The files kept with this run (outputs, logs, uploads), for get_file_names & co."""
        return {a.name: a.path for a in list_artifacts(self._conn, self.id)}

    def _copy_kept(self, kept: Path, target: Path) -> None:
        """Copy a kept file out of the workspace, no folder below the workspace followed if a
        step replaced it with a link (nor the file itself), never reading a FIFO."""
        root = self._local.layout.root
        try:
            copy_file_out(root, Path(kept).relative_to(root), target, f"run {self.id}")
        except ValueError as exc:
            raise UserErrorException(f"{kept} is not in the workspace {root}") from exc
        except StoreError as exc:
            raise UserErrorException(str(exc)) from exc

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

    def _record(self) -> PipelineRunRecord:
        run = store_runs.get_pipeline_run(self._conn, self.id)
        if run.status in st.ACTIVE and liveness.reconcile_run(self._conn, self._local.layout, self.id):
            run = store_runs.get_pipeline_run(self._conn, self.id)
        return run

    def _artifacts_folder(self) -> Path:
        return self._local.layout.run_artifacts_dir(self.id)

    @staticmethod
    def get(workspace: Any, run_id: str, _service_endpoint: Any = None) -> "PipelineRun":
        run = store_runs.get_pipeline_run(workspace._local.conn, run_id)
        return PipelineRun(workspace._experiment(run.experiment_name), run_id)

    @property
    def parent(self) -> None:
        return None

    def get_details(self) -> dict:
        run = self._record()
        return {"runId": self.id, "status": run.status, "startTimeUtc": _utc(run.start_time),
                "endTimeUtc": _utc(run.end_time), "properties": dict(run.properties),
                "tags": dict(run.tags), "error": run.error, "parameters": dict(run.parameters),
                "experimentName": self._experiment.name,
                "runDefinition": {"continueOnStepFailure": run.continue_on_step_failure,
                                  "regenerateOutputs": run.regenerate_outputs}}

    def get_steps(self) -> Iterator["StepRun"]:
        """The step runs of this run, in dependency order."""
        for step in store_runs.get_step_runs(self._conn, self.id):
            yield StepRun(self._experiment, step.id, self.id, step.node_id)

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

    def get_graph(self) -> PipelineSpec:
        """The PipelineSpec this run executed."""
        return PipelineSpec.from_json(get_pipeline(self._conn, self._record().pipeline_id).spec)

    def cancel(self) -> None:
        """Stop the run: running steps get SIGTERM, then SIGKILL after a grace period."""
        print(Client(self._local).cancel(self.id))

    def publish_pipeline(self, name: str, description: str, version: str,
                         continue_on_step_failure: bool | None = None, **kwargs: Any) -> Any:
        """Publish the pipeline this run ran; returns its PublishedPipeline."""
        pub_id = publish_pipeline(self._conn, self._record().pipeline_id, name, description,
                                  version, continue_on_step_failure)
        return self._experiment.workspace._published_pipeline(pub_id)

    def wait_for_completion(self, show_output: bool = True, timeout_seconds: int = sys.maxsize,
                            raise_on_error: bool = True) -> str:
        """Wait until the run ends, printing step progress and logs; returns the final status.

        Raises ActivityFailedException when the run failed and `raise_on_error` is set. Under
        `amlocal run --no-wait` it returns the current status at once (see `_waits`).
        """
        if _waits():
            printer = ProgressPrinter(self._conn, self.id, out=sys.stdout if show_output else None)
            status = printer.follow(timeout_seconds, reconcile=lambda: self._record())
        else:
            status = self.get_status()
            if show_output:
                print(f"PipelineRunId: {self.id}\nPipelineRun Status: {status}", flush=True)
        if status == st.FAILED and raise_on_error:
            run = self._record()
            failed = [s for s in store_runs.get_step_runs(self._conn, self.id) if s.status == st.FAILED]
            detail = "; ".join(f"step {s.name}: {s.error}" for s in failed) or run.error
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

    def _record(self) -> StepRunRecord:
        step = store_runs.get_step_run(self._conn, self.id)
        if step.status in st.ACTIVE and liveness.reconcile_run(self._conn, self._local.layout,
                                                              self._pipeline_run_id):
            step = store_runs.get_step_run(self._conn, self.id)
        return step

    def _artifacts_folder(self) -> Path:
        return StepRunFiles(self._record().run_dir).artifacts

    @property
    def name(self) -> str:
        return self._record().name

    @property
    def pipeline_run_id(self) -> str:
        return self._pipeline_run_id

    @property
    def parent(self) -> PipelineRun:
        return PipelineRun(self._experiment, self._pipeline_run_id)

    def get_properties(self) -> dict:
        """Step properties plus the pipeline run's `azureml.git.*` keys."""
        parent = store_runs.get_pipeline_run(self._conn, self._pipeline_run_id).properties
        git = {k: v for k, v in parent.items() if k.startswith(("azureml.git.", "mlflow.source."))}
        return {**git, **self._record().properties}

    def _log_paths(self) -> dict[str, Path]:
        files = StepRunFiles(self._record().run_dir)
        return {"azureml-logs/stdout.txt": files.stdout, "azureml-logs/stderr.txt": files.stderr}

    def get_details(self) -> dict:
        step = self._record()
        return {"runId": self.id, "target": step.compute_target, "status": step.status,
                "startTimeUtc": _utc(step.start_time), "endTimeUtc": _utc(step.end_time),
                "properties": self.get_properties(), "tags": dict(step.tags),
                "error": step.error, "exitCode": step.exit_code, "executor": step.executor,
                "runDefinition": {"arguments": list(step.arguments), "nodeId": self._node_id,
                                  "name": step.name},
                "logFiles": {k: str(v) for k, v in self._log_paths().items()}}

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: Any = None,
                    populate: bool = False) -> dict:
        return _metrics_dict(self._conn, self.id, name)

    def _artifacts(self) -> dict[str, Path]:
        files = super()._artifacts()
        files.update({k: v for k, v in self._log_paths().items() if v.exists()})
        return files

    def get_stdout_log(self) -> str:
        return read_log(self._log_paths()["azureml-logs/stdout.txt"])

    def get_stderr_log(self) -> str:
        return read_log(self._log_paths()["azureml-logs/stderr.txt"])

    def get_job_log(self) -> str:
        return self.get_stdout_log() + self.get_stderr_log()

    def register_model(self, model_name: str, model_path: str | None = None, tags: dict | None = None,
                       properties: dict | None = None, model_framework: str | None = None,
                       model_framework_version: str | None = None, description: str | None = None,
                       datasets: list | None = None, **kwargs: Any) -> Any:
        """Register a file or folder this step kept (`outputs/model.pkl`) as a model."""
        from runner.sdk.run_models import register_run_model
        return register_run_model(self, self._pipeline_run_id, model_name, model_path, tags=tags,
                                  properties=properties, model_framework=model_framework,
                                  model_framework_version=model_framework_version,
                                  description=description)

    def get_outputs(self) -> dict[str, PortDataReference]:
        return {name: PortDataReference(self._experiment.workspace, self._pipeline_run_id, out, self)
                for name, out in self._record().outputs.items()}

    def get_output_data(self, name: str) -> PortDataReference:
        """Where output `name` of this step lives on its datastore."""
        outputs = self.get_outputs()
        if name not in outputs:
            raise UserErrorException(f"step {self.name} has no output {name!r} "
                                     f"(outputs: {', '.join(outputs) or 'none'})")
        return outputs[name]

    def wait_for_completion(self, show_output: bool = True, timeout_seconds: int = sys.maxsize,
                            raise_on_error: bool = True) -> str:
        """Wait until the step ends, printing its progress; returns its final status (under
        `amlocal run --no-wait`, its current status at once)."""
        if _waits():
            printer = ProgressPrinter(self._conn, self._pipeline_run_id,
                                      out=sys.stdout if show_output else None, only_step=self.id)
            printer.follow(timeout_seconds, reconcile=lambda: self._record())
        status = self.get_status()
        if status == st.FAILED and raise_on_error:
            raise ActivityFailedException(f"Activity Failed: step {self.name}: {self._record().error}")
        return status


def get_run(workspace: Any, run_id: str) -> _StoredRun:
    """A pipeline run or step run by id."""
    conn = workspace._local.conn
    run = store_runs.find_pipeline_run(conn, run_id)
    if run is not None:
        return PipelineRun(workspace._experiment(run.experiment_name), run_id)
    step = store_runs.get_step_run(conn, run_id)
    parent = store_runs.get_pipeline_run(conn, step.pipeline_run_id)
    return StepRun(workspace._experiment(parent.experiment_name), run_id, step.pipeline_run_id,
                   step.node_id)
