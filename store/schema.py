"""The SQLite schema, declared with SQLModel.

These classes are the single definition of every table. They are used to create a fresh
database; day-to-day reads and writes go through `sqlite3` (see `store.database`) because
importing SQLModel costs about 0.4 s, more than the whole `amlocal runs` budget.

Bump `SCHEMA_VERSION` with any change here, and add the statements that bring the previous
version up to it to `store.database.MIGRATIONS` (additive only: `ALTER TABLE … ADD COLUMN` and
new indexes cost nothing on open). A database from a newer amlocal is refused with a clear
message rather than silently misread.
"""
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 9


class Experiment(SQLModel, table=True):
    """A named group of pipeline runs (the SDK's `Experiment`)."""

    __tablename__ = "experiment"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True, index=True)
    created_at: float
    tags_json: str = "{}"


class Pipeline(SQLModel, table=True):
    """A submitted pipeline definition: its PipelineSpec JSON and that JSON's hash."""

    __tablename__ = "pipeline"

    id: str = Field(primary_key=True)
    name: str = Field(index=True)
    spec_hash: str = Field(unique=True, index=True)
    spec_json: str
    created_at: float


class PublishedPipeline(SQLModel, table=True):
    """A pipeline published with `Pipeline.publish`, resubmittable by id."""

    __tablename__ = "published_pipeline"

    id: str = Field(primary_key=True)
    name: str = Field(index=True)
    description: Optional[str] = None
    version: Optional[str] = None
    pipeline_id: str = Field(foreign_key="pipeline.id")
    status: str = "Active"
    continue_on_step_failure: Optional[bool] = None
    created_at: float


class PipelineEndpoint(SQLModel, table=True):
    """A named endpoint of published pipeline versions; a submit runs its default version."""

    __tablename__ = "pipeline_endpoint"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True, index=True)
    description: Optional[str] = None
    default_version: str
    status: str = "Active"
    created_at: float


class PipelineEndpointVersion(SQLModel, table=True):
    """One version of a pipeline endpoint: the published pipeline it runs."""

    __tablename__ = "pipeline_endpoint_version"

    endpoint_id: str = Field(foreign_key="pipeline_endpoint.id", primary_key=True)
    version: str = Field(primary_key=True)
    published_pipeline_id: str = Field(foreign_key="published_pipeline.id")
    created_at: float


class Schedule(SQLModel, table=True):
    """A recurrence or datastore schedule of a published pipeline or endpoint, fired by the
    service. A datastore schedule's recurrence_json is 'null'; its trigger (datastore, path,
    polling interval, data path parameter) and the files it saw last are JSON columns."""

    __tablename__ = "schedule"

    id: str = Field(primary_key=True)
    name: str = Field(index=True)
    description: Optional[str] = None
    pipeline_id: Optional[str] = None
    pipeline_endpoint_id: Optional[str] = None
    experiment_name: str
    parameters_json: str = "{}"
    recurrence_json: str
    continue_on_step_failure: Optional[bool] = None
    status: str = "Active"
    last_fired_at: Optional[float] = None
    last_run_id: Optional[str] = None
    created_at: float
    datastore_trigger_json: Optional[str] = None
    watched_files_json: Optional[str] = None


class PipelineRun(SQLModel, table=True):
    """One submission of a pipeline: status, timing, runner process, parameters and git."""

    __tablename__ = "pipeline_run"

    id: str = Field(primary_key=True)
    experiment_id: str = Field(foreign_key="experiment.id", index=True)
    pipeline_id: str = Field(foreign_key="pipeline.id", index=True)
    published_pipeline_id: Optional[str] = None
    status: str = Field(index=True)
    created_at: float = Field(index=True)
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    runner_pid: Optional[int] = None
    runner_create_time: Optional[float] = None
    parameters_json: str = "{}"
    tags_json: str = "{}"
    properties_json: str = "{}"
    continue_on_step_failure: bool = False
    regenerate_outputs: bool = False
    cancel_requested: bool = False
    error: Optional[str] = None
    git_repository: Optional[str] = None
    git_branch: Optional[str] = None
    git_commit: Optional[str] = None
    git_dirty: Optional[bool] = None
    run_dir: str
    # The options it was submitted with (what reruns and watchers start from).
    script_path: Optional[str] = None  # the pipeline script that submitted it, if any
    executor: Optional[str] = None     # local or docker
    base_image: Optional[str] = None   # the Docker base image of environments that name none
    subscription_id: Optional[str] = None  # the Azure workspace identity the script used
    resource_group: Optional[str] = None
    workspace_name: Optional[str] = None
    # Steps a rerun asked to run whatever reuse would say (`amlocal rerun --step`), and why.
    forced_json: str = Field(default="{}", sa_column_kwargs={"server_default": "{}"})


class StepRun(SQLModel, table=True):
    """One step of a pipeline run: its status, timing, process outcome and working folder."""

    __tablename__ = "step_run"

    id: str = Field(primary_key=True)
    pipeline_run_id: str = Field(foreign_key="pipeline_run.id", index=True)
    node_id: str
    name: str
    position: int
    status: str
    created_at: float
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    exit_code: Optional[int] = None
    error: Optional[str] = None
    executor: Optional[str] = None
    process_id: Optional[int] = None
    process_create_time: Optional[float] = None
    compute_target: Optional[str] = None
    snapshot_id: Optional[str] = None
    decision: Optional[str] = None
    reason: Optional[str] = None
    reused_step_run_id: Optional[str] = None
    # sha256 of the canonical reuse fields, and the fields themselves (for `amlocal why`).
    fingerprint: Optional[str] = Field(default=None, index=True)
    fingerprint_json: Optional[str] = None
    # When each phase began: queued, preparing, starting, waiting (warm, for a node), running, ended.
    phases_json: str = "{}"
    # Bytes of the step's event file already stored (advanced with what they held, atomically).
    events_offset: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    arguments_json: str = "[]"
    outputs_json: str = "{}"
    properties_json: str = "{}"
    tags_json: str = "{}"
    run_dir: str


class Metric(SQLModel, table=True):
    """Every logged metric value, in order (the full history)."""

    __tablename__ = "metric"

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    name: str
    kind: str
    seq: int
    value: Optional[float] = None
    value_json: Optional[str] = None
    logged_at: float


class MetricLatest(SQLModel, table=True):
    """The latest value of each metric of a run, and how many values it has."""

    __tablename__ = "metric_latest"

    run_id: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    kind: str
    value: Optional[float] = None
    value_json: Optional[str] = None
    count: int
    updated_at: float


class Artifact(SQLModel, table=True):
    """A file kept with a run: `./outputs`, `./logs`, `upload_file`, `log_image`."""

    __tablename__ = "artifact"

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    name: str
    path: str
    size: int
    created_at: float


class Snapshot(SQLModel, table=True):
    """A content-addressed copy of a step's source directory."""

    __tablename__ = "snapshot"

    id: str = Field(primary_key=True)
    file_count: int
    total_size: int
    created_at: float


class FileHash(SQLModel, table=True):
    """Remembered content hash of a file, valid while size, mtime and inode are unchanged."""

    __tablename__ = "file_hash"

    path: str = Field(primary_key=True)
    size: int
    mtime_ns: int
    inode: int
    sha256: str


class Datastore(SQLModel, table=True):
    """A registered datastore, emulated as a folder; secrets are never stored."""

    __tablename__ = "datastore"

    name: str = Field(primary_key=True)
    datastore_type: str
    config_json: str = "{}"
    is_default: bool = False
    created_at: float


class ComputeTarget(SQLModel, table=True):
    """A registered compute target; `max_nodes` bounds how many of its steps run at once."""

    __tablename__ = "compute_target"

    name: str = Field(primary_key=True)
    compute_type: str
    vm_size: Optional[str] = None
    max_nodes: Optional[int] = None
    config_json: str = "{}"
    created_at: float


class Module(SQLModel, table=True):
    """A reusable module (`azureml.pipeline.core.Module`)."""

    __tablename__ = "module"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True, index=True)
    description: Optional[str] = None
    status: str = "Active"
    default_version: Optional[str] = None
    created_at: float


class ModuleVersion(SQLModel, table=True):
    """One published version of a module: the step definition it runs."""

    __tablename__ = "module_version"

    id: str = Field(primary_key=True)
    module_id: str = Field(foreign_key="module.id", index=True)
    version: str
    definition_json: str
    status: str = "Active"  # Active, Deprecated or Disabled (ModuleVersion.enable/deprecate/disable)
    created_at: float


class PipelineDraft(SQLModel, table=True):
    """A pipeline saved to edit and submit later (`azureml.pipeline.core.PipelineDraft`)."""

    __tablename__ = "pipeline_draft"

    id: str = Field(primary_key=True)
    name: str = Field(index=True)
    description: Optional[str] = None
    experiment_name: str
    pipeline_id: str = Field(foreign_key="pipeline.id")
    parameters_json: str = "{}"
    continue_on_step_failure: Optional[bool] = None
    tags_json: str = "{}"
    properties_json: str = "{}"
    parent_pipeline_id: Optional[str] = None
    parent_pipeline_run_id: Optional[str] = None
    parent_step_run_ids_json: str = "[]"
    parent_pipeline_draft_id: Optional[str] = None
    last_submitted_pipeline_run_id: Optional[str] = None
    created_at: float
    updated_at: float


class RegisteredAsset(SQLModel, table=True):
    """One version of a registered dataset, model or environment (the workspace's registries).

    `definition_json` is what the asset is (a dataset's sources, reader and transforms; a
    model's stored files; an environment's definition), `content_json` the file hashes it
    pinned when registered, and `made_by_*` the run that registered it (None from a script).
    """

    __tablename__ = "registered_asset"
    __table_args__ = (Index("ix_registered_asset_version", "kind", "name", "version", unique=True),)

    id: str = Field(primary_key=True)
    kind: str = Field(index=True)  # dataset, model or environment
    name: str
    version: int
    description: Optional[str] = None
    tags_json: str = "{}"
    properties_json: str = "{}"
    definition_json: str = "{}"
    content_json: str = "{}"
    made_by_step_run_id: Optional[str] = None
    made_by_pipeline_run_id: Optional[str] = None
    created_at: float


class AssetUse(SQLModel, table=True):
    """A registered asset a step run read (a dataset input, a dataset or model got by name)."""

    __tablename__ = "asset_use"

    asset_id: str = Field(primary_key=True, foreign_key="registered_asset.id")
    step_run_id: str = Field(primary_key=True, index=True)
    pipeline_run_id: str
    used_at: float
