"""`Run.get_context()`: the run a step script logs to, or the SDK's offline run outside one."""
from __future__ import annotations

import os
import shutil
import sys
import uuid
import warnings
from types import GeneratorType
from typing import Any

from runner.step_runtime import contract
from runner.step_runtime.events import EventWriter, shared_writer
from runner.step_runtime.experiment_ref import StepExperiment
from runner.step_runtime.metric_values import metric_name, scalar
from runner.step_runtime.exceptions import RunEnvironmentException, UserErrorException
from runner.step_runtime.run_readback import RunReadback

_context_cache: dict[str, "Run"] = {}
_METRIC_KINDS = frozenset({"scalar", "list", "row", "table", "image"})


def _writer(path: str) -> EventWriter:
    return shared_writer(path)


class Run(RunReadback):
    """A run of an experiment (`azureml.core.Run`).

    Inside a step, `Run.get_context()` returns the step's run: every `log*`, `tag` and
    `upload_*` call is recorded with it, and read back by `get_metrics`, `get_tags`, … (see
    `RunReadback`). Outside a step it returns an offline run that only prints, as the SDK does.
    """

    def __init__(self, experiment: Any, run_id: str, outputs: Any = None, **kwargs: Any) -> None:
        self._experiment = experiment
        self._run_id = run_id
        self._events_path: str | None = kwargs.get("_events_path")
        self._artifacts_dir: str | None = kwargs.get("_artifacts_dir")
        self._parent_id: str | None = kwargs.get("_parent_id")
        self._parent_artifacts: str | None = kwargs.get("_parent_artifacts")
        self._number: int | None = kwargs.get("_number")

    # ----------------------------------------------------------------- context
    @classmethod
    def get_context(cls, allow_offline: bool = True, used_for_context_manager: bool = False,
                    **kwargs: Any) -> "Run | _OfflineRun":
        """The run this code executes in; an offline run when there is none."""
        run_id = os.environ.get(contract.RUN_ID)
        events = os.environ.get(contract.EVENTS_FILE)
        if not run_id or not events:
            if allow_offline:
                return _OfflineRun()
            raise RunEnvironmentException(
                "Could not load a submitted run, if outside of an execution context, use "
                "experiment.start_logging to initialize an azureml.core.Run.")
        if run_id not in _context_cache:
            _context_cache[run_id] = Run(
                StepExperiment(os.environ.get(contract.EXPERIMENT_NAME, "")), run_id,
                _events_path=events, _artifacts_dir=os.environ.get(contract.ARTIFACTS_DIR),
                _parent_id=os.environ.get(contract.PARENT_RUN_ID),
                _parent_artifacts=os.environ.get(contract.PARENT_ARTIFACTS_DIR))
        return _context_cache[run_id]

    # ----------------------------------------------------------------- identity
    @property
    def experiment(self) -> Any:
        return self._experiment

    @property
    def parent(self) -> "Run | None":
        """The pipeline run this step belongs to."""
        if not self._parent_id:
            return None
        number = os.environ.get(contract.PARENT_RUN_NUMBER)
        return Run(self._experiment, self._parent_id, _events_path=self._events_path,
                   _artifacts_dir=self._parent_artifacts,
                   _number=int(number) if number and number.isdigit() else None)

    @property
    def number(self) -> int | None:
        """The run's number in its experiment (1, 2, …); known for `run.parent`, the pipeline
        run, and None for a step's own run (amlocal numbers pipeline runs only)."""
        return self._number

    def get_secret(self, name: str) -> str:
        """The value of secret `name` from the workspace's Key Vault, read now."""
        from runner.step_runtime.key_vault import read_secret
        return read_secret(name)

    def get_secrets(self, secrets: list[str]) -> dict[str, str | None]:
        """name → value for each of `secrets` (None for a name the Key Vault lacks)."""
        from runner.step_runtime.key_vault import read_secrets
        return read_secrets(list(secrets))

    @property
    def input_datasets(self) -> dict[str, Any]:
        """Named dataset inputs of this step: name → the dataset (a TabularDataset or
        FileDataset) for one consumed directly (`as_named_input`), its path for one mounted
        or downloaded (`.as_mount()`, `.as_download()`), as in the SDK."""
        from runner.step_runtime.registry_view import step_registry
        names = [item.split(":")[0] for item in
                 os.environ.get(contract.DATASET_INPUTS, "").split(",") if item]
        out: dict[str, Any] = {}
        for n in names:
            dataset = step_registry().input_dataset(n, self._experiment.workspace)
            if dataset is not None:
                out[n] = dataset
            elif n in os.environ:
                out[n] = os.environ[n]
        return out

    @property
    def output_datasets(self) -> dict[str, str]:
        """Named `OutputFileDatasetConfig` outputs of this step: name → folder to write."""
        names = [n for n in os.environ.get(contract.DATASET_OUTPUTS, "").split(";") if n]
        return {n: os.environ[n] for n in names if n in os.environ}

    def __repr__(self) -> str:
        return f"Run(Id: {self._run_id})"

    def register_model(self, model_name: str, model_path: str | None = None,
                       tags: dict | None = None, properties: dict | None = None,
                       model_framework: str | None = None,
                       model_framework_version: str | None = None,
                       description: str | None = None, datasets: list | None = None,
                       sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                       resource_configuration: Any = None, **kwargs: Any) -> Any:
        """Register `model_path` of this run ("outputs/model.pkl": what the step wrote or
        uploaded; `model_name` when None) as a model; it is registered when the step succeeds."""
        from runner.step_runtime.model import Model, check_model_name
        check_model_name(model_name)
        path = model_path or model_name
        local = path
        if not os.path.exists(local) and self._artifacts_dir:
            local = os.path.join(self._artifacts_dir, path)
        if not os.path.exists(local):
            from runner.step_runtime.exceptions import WebserviceException
            raise WebserviceException(f"Could not locate the provided model_path {path} in the "
                                      "set of files uploaded to the run")
        return Model.register(self._experiment.workspace, local, model_name, tags, properties,
                              description, datasets, model_framework, model_framework_version,
                              sample_input_dataset=sample_input_dataset,
                              sample_output_dataset=sample_output_dataset)

    # ----------------------------------------------------------------- recording
    def _emit(self, kind: str, name: str, value: Any) -> None:
        """Check a metric's name, then record the event."""
        if kind in _METRIC_KINDS:
            metric_name(name)
        self._write_event(kind, name, value)

    def _write_event(self, kind: str, name: str, value: Any) -> None:
        if not self._events_path:
            raise UserErrorException(f"run {self._run_id} is not the context of a step; "
                                     "log to it from inside its step")
        _writer(self._events_path).write(self._run_id, kind, name, value)

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a scalar; logging the same name again appends to its series."""
        if isinstance(value, (list, tuple, range, GeneratorType, set)):
            raise UserErrorException(
                f"Metric {name}: log() takes a single value; use log_list() for a list")
        self._emit("scalar", name, scalar(metric_name(name), value))

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Log a list of values under one name."""
        self._emit("list", name, [scalar(metric_name(name), v) for v in value])

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of a table metric; its columns are the keyword arguments."""
        self._emit("row", name, {k: scalar(metric_name(name), v) for k, v in kwargs.items()})

    def log_table(self, name: str, value: dict, description: str = "") -> None:
        """Log a table given as {column: [values]}."""
        if not isinstance(value, dict):
            raise UserErrorException(f"Metric {name}: log_table() takes a dict of columns")
        self._emit("table", name, {k: list(v) for k, v in value.items()})

    def log_image(self, name: str, path: str | None = None, plot: Any = None,
                  description: str = "") -> None:
        """Keep an image (a file, or a matplotlib plot) as an artifact and a metric."""
        if (path is None) == (plot is None):
            raise UserErrorException("log_image needs exactly one of path or plot")
        artifact = f"images/{name}.png" if plot is not None else f"images/{os.path.basename(path)}"
        target = self._artifact_target(artifact)
        if plot is not None:
            plot.savefig(target)
        else:
            shutil.copyfile(path, target)
        self._emit("image", name, artifact)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        self._emit("table", name, value)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        self._emit("table", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        self._emit("table", name, value)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        self._emit("table", name, value)

    def _artifact_target(self, name: str) -> str:
        if not self._artifacts_dir:
            raise UserErrorException("this run has no artifact folder")
        clean = os.path.normpath(name).lstrip("/")
        if clean.startswith(".."):
            raise UserErrorException(f"artifact name {name!r} leaves the run's artifacts")
        target = os.path.join(self._artifacts_dir, clean)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return target

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> None:
        """Keep a file with the run under `name`."""
        target = self._artifact_target(name)
        if hasattr(path_or_stream, "read"):
            with open(target, "wb") as out:
                data = path_or_stream.read()
                out.write(data.encode() if isinstance(data, str) else data)
        else:
            shutil.copyfile(path_or_stream, target)
        self._emit("artifact", name, name)

    def upload_files(self, names: list[str], paths: list[str], return_artifacts: bool = False,
                     timeout_seconds: int | None = None, datastore_name: str | None = None) -> None:
        for name, path in zip(names, paths):
            self.upload_file(name, path)

    def upload_folder(self, name: str, path: str, datastore_name: str | None = None) -> None:
        for root, _dirs, files in os.walk(path):
            for f in files:
                full = os.path.join(root, f)
                self.upload_file(os.path.join(name, os.path.relpath(full, path)), full)

    def tag(self, key: str, value: Any = None) -> None:
        self._emit("tag", key, "" if value is None else str(value))

    def set_tags(self, tags: dict) -> None:
        for key, value in tags.items():
            self.tag(key, value)

    def add_properties(self, properties: dict) -> None:
        for key, value in properties.items():
            self._emit("property", key, str(value))

    def flush(self, timeout_seconds: int = 300) -> None:
        if self._events_path:
            _writer(self._events_path).flush()

    def complete(self) -> None:
        """As in the SDK, a step's own run is completed by the service, not by the script."""
        self.flush()

    def fail(self, error_details: Any = None, error_code: Any = None) -> None:
        self.flush()

    def cancel(self) -> None:
        """`run.parent.cancel()` in a step cancels the pipeline run: the runner stops it, with
        the reason "canceled by step NAME", and the steps not started yet never run."""
        if self._events_path and self._run_id == os.environ.get(contract.PARENT_RUN_ID):
            writer = _writer(self._events_path)
            writer.write(self._run_id, "cancel", os.environ.get(contract.STEP_NAME, ""), "")
            writer.flush()
            return
        warnings.warn("cancel() on a step's own run does nothing; cancel the pipeline run "
                      "(run.parent.cancel())")


class _OfflineRun:
    """The SDK's offline run: every call prints what it would have recorded."""

    def __init__(self, run_id: str | None = None) -> None:
        self.id = run_id or f"OfflineRun_{uuid.uuid4()}"

    def _print(self, kind: str, name: str, value: Any) -> None:
        print(f"Attempted to log {kind} metric {name}:\n{value}", file=sys.stdout)

    def log(self, name: str, value: Any, description: str = "") -> None:
        self._print("scalar", name, value)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        self._print("list", name, value)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._print("row", name, kwargs)

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        self._print("table", name, value)

    def log_image(self, name: str, path: str | None = None, plot: Any = None,
                  description: str = "") -> None:
        self._print("image", name, path if path is not None else plot)

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> None:
        print(f"Attempted to upload file {name} from {path_or_stream}")

    def upload_files(self, name: Any, paths: Any, **kwargs: Any) -> None:
        print(f"Attempted to upload files {name}")

    def upload_folder(self, name: str, path: str, **kwargs: Any) -> None:
        print(f"Attempted to upload folder {name} from {path}")

    def tag(self, key: str, value: Any = None) -> None:
        print(f"Attempted to set tag {key} to {value}")

    def set_tags(self, tags: dict) -> None:
        print(f"Attempted to set tags {tags}")

    def add_properties(self, properties: dict) -> None:
        print(f"Attempted to add properties {properties}")

    def child_run(self, name: str | None = None, run_id: str | None = None,
                  outputs: Any = None) -> "_OfflineRun":
        return _OfflineRun(f"{self.id}.{name or run_id or uuid.uuid4()}")

    def get_status(self) -> str:
        return "Running"

    def complete(self) -> None:
        pass

    def fail(self, error_details: Any = None, error_code: Any = None) -> None:
        pass

    def flush(self, timeout_seconds: int = 300) -> None:
        pass

    def __repr__(self) -> str:
        return f"_OfflineRun(Id: {self.id})"
