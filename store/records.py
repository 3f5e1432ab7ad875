"""What the store hands out: decoded, immutable records, never `sqlite3.Row` or JSON text.

They are NamedTuples, not dataclasses: a command such as `amlocal runs` imports them all,
and a NamedTuple class costs a third of a frozen dataclass to create.

Rows become records here, at the boundary (as MLflow's SQL store does): JSON columns are
decoded, flags become bools, paths become `Path`s. Callers read attributes.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Mapping, NamedTuple


def _json(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


class ExperimentRecord(NamedTuple):
    """A named group of runs."""

    id: str
    name: str
    created_at: float

    @staticmethod
    def of(row: sqlite3.Row) -> "ExperimentRecord":
        return ExperimentRecord(row["id"], row["name"], row["created_at"])


class PipelineRecord(NamedTuple):
    """A stored pipeline definition: its name and PipelineSpec (as plain JSON data)."""

    id: str
    name: str
    spec: Mapping[str, Any]
    created_at: float

    @staticmethod
    def of(row: sqlite3.Row) -> "PipelineRecord":
        return PipelineRecord(row["id"], row["name"], json.loads(row["spec_json"]), row["created_at"])


class StoredOutput(NamedTuple):
    """Where one output of a step run lives, and (once it finished) what it holds."""

    name: str
    datastore: str
    path: str
    local_path: Path
    content_hash: str | None = None  # the tree hash of its files, set when the step finished
    producer: str | None = None      # the step run that wrote it
    step_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "datastore": self.datastore, "path": self.path,
                "local_path": str(self.local_path)}
        for key in ("content_hash", "producer", "step_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "StoredOutput":
        return StoredOutput(data["name"], data["datastore"], data["path"], Path(data["local_path"]),
                            data.get("content_hash"), data.get("producer"), data.get("step_name"))


def outputs_to_json(outputs: Mapping[str, StoredOutput]) -> dict[str, dict[str, Any]]:
    return {port: out.to_json() for port, out in outputs.items()}


def _outputs(text: str | None) -> dict[str, StoredOutput]:
    return {port: StoredOutput.from_json(out) for port, out in _json(text, {}).items()}


class PipelineRunRecord(NamedTuple):
    """One submission of a pipeline: status, timing, runner, options, parameters and git facts.

    `script`, `executor`, `base_image` and the workspace identity are the options it was
    submitted with (what a rerun or a watcher starts from); `properties` are the SDK's.
    """

    id: str
    experiment_id: str
    experiment_name: str
    pipeline_id: str
    pipeline_name: str
    published_pipeline_id: str | None
    status: str
    created_at: float
    start_time: float | None
    end_time: float | None
    runner_pid: int | None
    runner_create_time: float | None
    parameters: Mapping[str, Any]
    tags: Mapping[str, str]
    properties: Mapping[str, str]
    continue_on_step_failure: bool
    regenerate_outputs: bool
    cancel_requested: bool
    error: str | None
    git_repository: str | None
    git_branch: str | None
    git_commit: str | None
    git_dirty: bool | None
    run_dir: Path
    script: str | None
    executor: str | None
    base_image: str | None
    subscription_id: str | None
    resource_group: str | None
    workspace_name: str | None
    forced: Mapping[str, Any] = {}  # steps a rerun forces to run: {"nodes": [...], "reason": ...}

    @staticmethod
    def of(row: sqlite3.Row) -> "PipelineRunRecord":
        return PipelineRunRecord(
            row["id"], row["experiment_id"], row["experiment_name"], row["pipeline_id"],
            row["pipeline_name"], row["published_pipeline_id"], row["status"], row["created_at"],
            row["start_time"], row["end_time"], row["runner_pid"], row["runner_create_time"],
            _json(row["parameters_json"], {}), _json(row["tags_json"], {}),
            _json(row["properties_json"], {}), bool(row["continue_on_step_failure"]),
            bool(row["regenerate_outputs"]), bool(row["cancel_requested"]), row["error"],
            row["git_repository"], row["git_branch"], row["git_commit"], _flag(row["git_dirty"]),
            Path(row["run_dir"]), row["script_path"], row["executor"], row["base_image"],
            row["subscription_id"], row["resource_group"], row["workspace_name"],
            _json(row["forced_json"], {}))


class StepRunRecord(NamedTuple):
    """One step of a pipeline run: status, timing, outcome, reuse decision and outputs."""

    id: str
    pipeline_run_id: str
    node_id: str
    name: str
    position: int
    status: str
    created_at: float
    start_time: float | None
    end_time: float | None
    exit_code: int | None
    error: str | None
    executor: str | None
    process_id: int | None
    process_create_time: float | None
    compute_target: str | None
    snapshot_id: str | None
    decision: str | None  # "reused", "run", or None while undecided
    reason: str | None
    reused_step_run_id: str | None
    fingerprint: str | None
    fingerprint_fields: Mapping[str, Any] | None  # what the fingerprint hashes (for `why`)
    fingerprint_about: Mapping[str, Any] | None   # what it leaves out: input origins, env words
    phases: Mapping[str, float]
    arguments: tuple[str, ...]
    outputs: Mapping[str, StoredOutput]
    properties: Mapping[str, str]
    tags: Mapping[str, str]
    run_dir: Path

    @staticmethod
    def of(row: sqlite3.Row) -> "StepRunRecord":
        fingerprint = _json(row["fingerprint_json"], None)
        return StepRunRecord(
            row["id"], row["pipeline_run_id"], row["node_id"], row["name"], row["position"],
            row["status"], row["created_at"], row["start_time"], row["end_time"], row["exit_code"],
            row["error"], row["executor"], row["process_id"], row["process_create_time"],
            row["compute_target"], row["snapshot_id"], row["decision"], row["reason"],
            row["reused_step_run_id"], row["fingerprint"],
            fingerprint.get("fields") if fingerprint else None,
            fingerprint.get("about", {}) if fingerprint else None,
            _json(row["phases_json"], {}), tuple(_json(row["arguments_json"], [])),
            _outputs(row["outputs_json"]), _json(row["properties_json"], {}),
            _json(row["tags_json"], {}), Path(row["run_dir"]))

    @property
    def label(self) -> str:
        """`<run prefix>/<step name>`, as reuse reasons name a step run."""
        return f"{self.pipeline_run_id[:8]}/{self.name}"


class PipelineSummary(NamedTuple):
    """One pipeline (by name), its latest run, and the recent runs' durations."""

    name: str
    latest: PipelineRunRecord
    runs: int
    recent_durations: tuple[float, ...]  # oldest first


class RunListing(NamedTuple):
    """A run as a list shows it: the run and how many of its steps were reused."""

    run: PipelineRunRecord
    steps: int
    reused: int


class MetricValue(NamedTuple):
    """One logged value of a metric (`seq` counts from 0 in logging order)."""

    run_id: str
    name: str
    kind: str
    seq: int
    value: Any
    logged_at: float


class LatestMetric(NamedTuple):
    """The latest value of one metric of a run, and how many values it has."""

    run_id: str
    name: str
    kind: str
    value: Any
    count: int
    updated_at: float


class ArtifactRecord(NamedTuple):
    """A file kept with a run."""

    run_id: str
    name: str
    path: Path
    size: int
    created_at: float

    @staticmethod
    def of(row: sqlite3.Row) -> "ArtifactRecord":
        return ArtifactRecord(row["run_id"], row["name"], Path(row["path"]), row["size"],
                              row["created_at"])


class DatastoreRecord(NamedTuple):
    """A registered datastore; its config never holds a secret."""

    name: str
    datastore_type: str
    config: Mapping[str, Any]
    is_default: bool
    created_at: float

    @staticmethod
    def of(row: sqlite3.Row) -> "DatastoreRecord":
        return DatastoreRecord(row["name"], row["datastore_type"], _json(row["config_json"], {}),
                               bool(row["is_default"]), row["created_at"])


class ComputeTargetRecord(NamedTuple):
    """A registered compute target; `max_nodes` bounds how many of its steps run at once."""

    name: str
    compute_type: str
    vm_size: str | None
    max_nodes: int | None
    config: Mapping[str, Any]
    created_at: float

    @staticmethod
    def of(row: sqlite3.Row) -> "ComputeTargetRecord":
        return ComputeTargetRecord(row["name"], row["compute_type"], row["vm_size"], row["max_nodes"],
                                   _json(row["config_json"], {}), row["created_at"])

    @property
    def tags(self) -> Mapping[str, str]:
        return self.config.get("tags") or {}


class PublishedPipelineRecord(NamedTuple):
    """A published pipeline: a stored pipeline that can be submitted again by id."""

    id: str
    name: str
    description: str | None
    version: str | None
    pipeline_id: str
    status: str
    continue_on_step_failure: bool | None
    created_at: float

    @staticmethod
    def of(row: sqlite3.Row) -> "PublishedPipelineRecord":
        return PublishedPipelineRecord(row["id"], row["name"], row["description"], row["version"],
                                       row["pipeline_id"], row["status"],
                                       _flag(row["continue_on_step_failure"]), row["created_at"])


class ModuleVersionRecord(NamedTuple):
    """One published version of a module: the step definition it runs."""

    id: str
    module_id: str
    version: str
    definition: Mapping[str, Any]
    created_at: float
    status: str = "Active"  # Active, Deprecated or Disabled

    @staticmethod
    def of(row: sqlite3.Row) -> "ModuleVersionRecord":
        return ModuleVersionRecord(row["id"], row["module_id"], row["version"],
                                   json.loads(row["definition_json"]), row["created_at"],
                                   row["status"])


class ModuleRecord(NamedTuple):
    """A module and its versions, oldest first."""

    id: str
    name: str
    description: str | None
    status: str
    default_version: str | None
    created_at: float
    versions: tuple[ModuleVersionRecord, ...] = ()


class PipelineEndpointRecord(NamedTuple):
    """A pipeline endpoint: its name, default version, status and versions (version → the
    published pipeline id, in the order they were added)."""

    id: str
    name: str
    description: str | None
    default_version: str
    status: str
    created_at: float
    versions: tuple[tuple[str, str], ...]


class ScheduleRecord(NamedTuple):
    """A schedule: what it submits (a published pipeline or an endpoint), where, with what,
    when: how often (`recurrence`, a dict) or on a datastore change (`datastore_trigger`, a
    dict: datastore, path_on_datastore, polling_interval, data_path_parameter_name; then
    `recurrence` is None), its status and its last fire (epoch s, run id). `watched_files`:
    the files a datastore schedule saw last (name → [size, mtime_ns, sha256])."""

    id: str
    name: str
    description: str | None
    pipeline_id: str | None
    pipeline_endpoint_id: str | None
    experiment_name: str
    parameters: Mapping[str, Any]
    recurrence: Mapping[str, Any] | None
    continue_on_step_failure: bool | None
    status: str
    last_fired_at: float | None
    last_run_id: str | None
    created_at: float
    datastore_trigger: Mapping[str, Any] | None = None
    watched_files: Mapping[str, Any] = {}

    @staticmethod
    def of(row: sqlite3.Row) -> "ScheduleRecord":
        return ScheduleRecord(row["id"], row["name"], row["description"], row["pipeline_id"],
                              row["pipeline_endpoint_id"], row["experiment_name"],
                              _json(row["parameters_json"], {}), _json(row["recurrence_json"], None),
                              _flag(row["continue_on_step_failure"]), row["status"],
                              row["last_fired_at"], row["last_run_id"], row["created_at"],
                              _json(row["datastore_trigger_json"], None),
                              _json(row["watched_files_json"], {}))


class AssetRecord(NamedTuple):
    """One version of a registered dataset, model or environment: what it is (`definition`),
    the file hashes it pinned (`content`, path → sha256), and the run that registered it."""

    id: str
    kind: str
    name: str
    version: int
    description: str | None
    tags: Mapping[str, Any]
    properties: Mapping[str, Any]
    definition: Mapping[str, Any]
    content: Mapping[str, str]
    made_by_step_run_id: str | None
    made_by_pipeline_run_id: str | None
    created_at: float

    @staticmethod
    def of(row: sqlite3.Row) -> "AssetRecord":
        return AssetRecord(row["id"], row["kind"], row["name"], int(row["version"]),
                           row["description"], _json(row["tags_json"], {}),
                           _json(row["properties_json"], {}), _json(row["definition_json"], {}),
                           _json(row["content_json"], {}), row["made_by_step_run_id"],
                           row["made_by_pipeline_run_id"], row["created_at"])


class AssetUseRecord(NamedTuple):
    """A step run that read a registered asset version."""

    asset_id: str
    step_run_id: str
    pipeline_run_id: str
    used_at: float
