"""`PipelineDraft`: a pipeline saved in the workspace with its experiment, parameters and tags,
to be changed, submitted (`submit_run`) or published later, as in the SDK.

A draft keeps the compiled PipelineSpec (like a submitted run), so submitting it later runs
what was drafted even if the script's files changed meanwhile — except the steps' source
directories, which are snapshotted when a run is submitted, as for every run.
"""
from __future__ import annotations

from typing import Any

from runner.client import check_parameters, refuse_cycles
from runner.sdk.spec_file import save_spec
from runner.spec import PipelineSpec
from store import catalog
from store import drafts as store_drafts


def _checked_spec(pipeline: Any, pipeline_parameters: dict | None) -> dict:
    """The spec (as stored) of Pipeline `pipeline`, refused when it could not run with these
    parameters."""
    refuse_cycles(pipeline.graph)
    check_parameters(pipeline.graph, pipeline_parameters)
    return pipeline.graph.to_json()


class PipelineDraft:
    """A mutable pipeline, stored in the workspace, that can be submitted or published."""

    def __init__(self, workspace: Any, id: str, name: str | None = None,
                 description: str | None = None, experiment_name: str | None = None,
                 tags: dict | None = None, properties: dict | None = None,
                 graph_draft_id: str | None = None, parent_pipeline_id: str | None = None,
                 parent_pipeline_run_id: str | None = None, parent_step_run_ids: list | None = None,
                 parent_pipeline_draft_id: str | None = None,
                 last_submitted_pipeline_run_id: str | None = None,
                 _pipeline_draft_provider: Any = None) -> None:
        self._workspace = workspace
        self._id = id
        self._name = name
        self._description = description
        self._experiment_name = experiment_name
        self._tags = dict(tags or {})
        self._properties = dict(properties or {})
        self._graph_draft_id = graph_draft_id
        self._parent_pipeline_id = parent_pipeline_id
        self._parent_pipeline_run_id = parent_pipeline_run_id
        self._parent_step_run_ids = list(parent_step_run_ids or [])
        self._parent_pipeline_draft_id = parent_pipeline_draft_id
        self._last_submitted_pipeline_run_id = last_submitted_pipeline_run_id

    @staticmethod
    def _from_record(workspace: Any, record: store_drafts.DraftRecord) -> "PipelineDraft":
        draft = PipelineDraft(workspace, record.id, record.name, record.description,
                              record.experiment_name, record.tags, record.properties,
                              record.pipeline_id, record.parent_pipeline_id,
                              record.parent_pipeline_run_id, record.parent_step_run_ids,
                              record.parent_pipeline_draft_id, record.last_submitted_pipeline_run_id)
        draft._record = record
        return draft

    @property
    def _conn(self) -> Any:
        return self._workspace._local.conn

    def _reload(self) -> None:
        fresh = PipelineDraft.get(self._workspace, self._id)
        self.__dict__.update(fresh.__dict__)

    # ----------------------------------------------------------------- properties
    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def tags(self) -> dict:
        return dict(self._tags)

    @property
    def properties(self) -> dict:
        return dict(self._properties)

    @property
    def parent_pipeline_id(self) -> str | None:
        """The published pipeline this draft was made from."""
        return self._parent_pipeline_id

    @property
    def parent_pipeline_run_id(self) -> str | None:
        """The pipeline run this draft was made from."""
        return self._parent_pipeline_run_id

    @property
    def parent_step_run_ids(self) -> list[str]:
        return list(self._parent_step_run_ids)

    @property
    def parent_pipeline_draft_id(self) -> str | None:
        """The draft this one was cloned from."""
        return self._parent_pipeline_draft_id

    @property
    def last_submitted_pipeline_run_id(self) -> str | None:
        return self._last_submitted_pipeline_run_id

    # ----------------------------------------------------------------- create, find
    @staticmethod
    def create(workspace: Any, pipeline: Any, name: str | None = None,
               description: str | None = None, experiment_name: str | None = None,
               pipeline_parameters: dict | None = None, continue_on_step_failure: bool | None = None,
               tags: dict | None = None, properties: dict | None = None,
               _workflow_provider: Any = None, _service_endpoint: Any = None) -> "PipelineDraft":
        """A new draft of a Pipeline, or a copy of a PublishedPipeline, PipelineRun or draft."""
        from runner.sdk.pipeline import Pipeline, PublishedPipeline
        from runner.sdk.runs import PipelineRun
        conn = workspace._local.conn
        record = store_drafts.DraftRecord("", name or "", description, experiment_name or "", "",
                                          dict(pipeline_parameters or {}), continue_on_step_failure,
                                          {k: str(v) for k, v in (tags or {}).items()},
                                          {k: str(v) for k, v in (properties or {}).items()})
        if type(pipeline) is Pipeline:
            spec = _checked_spec(pipeline, pipeline_parameters)
            if name is None:
                raise ValueError("name can not be None")
            if experiment_name is None:
                raise ValueError("experiment_name can not be None")
            record.pipeline_id = catalog.ensure_pipeline(conn, name, spec)
        elif type(pipeline) is PipelineDraft:
            source = pipeline._record
            record = store_drafts.DraftRecord(
                "", source.name, source.description, source.experiment_name, source.pipeline_id,
                dict(source.parameters), source.continue_on_step_failure, dict(source.tags),
                dict(source.properties), parent_pipeline_draft_id=source.id)
        elif type(pipeline) is PipelineRun:
            details = pipeline.get_details()
            record.name = name or pipeline.name
            record.experiment_name = experiment_name or pipeline.experiment.name
            record.pipeline_id = pipeline._record().pipeline_id
            record.parameters = dict(pipeline_parameters or details["parameters"])
            record.parent_pipeline_run_id = pipeline.id
            record.parent_step_run_ids = [s.id for s in pipeline.get_steps()]
        elif type(pipeline) is PublishedPipeline:
            record.name = name or pipeline.name
            record.description = description or pipeline.description
            record.experiment_name = experiment_name or pipeline.name
            record.pipeline_id = pipeline.graph_id
            record.parent_pipeline_id = pipeline.id
        else:
            raise ValueError("pipeline should be of type Pipeline, PublishedPipeline, "
                             "PipelineDraft, or PipelineRun")
        return PipelineDraft._from_record(workspace, store_drafts.create_draft(conn, record))

    @staticmethod
    def get(workspace: Any, id: str, _workflow_provider: Any = None,
            _service_endpoint: Any = None) -> "PipelineDraft":
        """The draft with this id."""
        return PipelineDraft._from_record(workspace, store_drafts.get_draft(workspace._local.conn, id))

    @staticmethod
    def list(workspace: Any, tags: dict | None = None, _workflow_provider: Any = None) -> list["PipelineDraft"]:
        """The workspace's drafts, newest first; with `tags`, those carrying all of them."""
        wanted = {k: str(v) for k, v in (tags or {}).items()}
        return [PipelineDraft._from_record(workspace, r)
                for r in store_drafts.list_drafts(workspace._local.conn)
                if all(r.tags.get(k) == v for k, v in wanted.items())]

    # ----------------------------------------------------------------- use, change
    def get_graph(self, _workflow_provider: Any = None) -> PipelineSpec:
        """The draft's PipelineSpec."""
        return PipelineSpec.from_json(catalog.get_pipeline(self._conn, self._graph_draft_id).spec)

    def update(self, pipeline: Any = None, name: str | None = None, description: str | None = None,
               experiment_name: str | None = None, tags: dict | None = None,
               pipeline_parameters: dict | None = None, continue_on_step_failure: bool | None = None,
               _workflow_provider: Any = None) -> None:
        """Change the given fields; a new `pipeline` replaces the drafted one."""
        from runner.sdk.pipeline import Pipeline
        changes: dict[str, Any] = {k: v for k, v in (
            ("name", name), ("description", description), ("experiment_name", experiment_name),
            ("continue_on_step_failure", continue_on_step_failure)) if v is not None}
        if tags is not None:
            changes["tags"] = {k: str(v) for k, v in tags.items()}
        if pipeline is not None:
            if not isinstance(pipeline, Pipeline):
                raise ValueError("pipeline should be of type Pipeline")
            spec = _checked_spec(pipeline, pipeline_parameters if pipeline_parameters is not None
                                 else self._record.parameters)
            changes["pipeline_id"] = catalog.ensure_pipeline(self._conn, name or self._name, spec)
        if pipeline_parameters is not None:
            stored = catalog.get_pipeline(self._conn, changes.get("pipeline_id", self._graph_draft_id))
            check_parameters(PipelineSpec.from_json(stored.spec), pipeline_parameters)
            changes["parameters"] = dict(pipeline_parameters)
        store_drafts.update_draft(self._conn, self._id, **changes)
        self._reload()

    def _submission(self, experiment_name: str) -> tuple[PipelineSpec, str, None, bool | None]:
        """(spec, pipeline name, published pipeline id, continue_on_step_failure default) for
        `Experiment.submit`."""
        return (self.get_graph(), self._name or experiment_name, None,
                self._record.continue_on_step_failure)

    def submit_run(self, _workflow_provider: Any = None) -> Any:
        """Start a run of the draft in its experiment, with its parameters; returns the run."""
        from runner.sdk.experiment import Experiment
        run = Experiment(self._workspace, self._experiment_name).submit(
            self, pipeline_parameters=self._record.parameters,
            continue_on_step_failure=self._record.continue_on_step_failure)
        store_drafts.update_draft(self._conn, self._id, last_submitted_pipeline_run_id=run.id)
        self._last_submitted_pipeline_run_id = run.id
        return run

    def publish(self, _workflow_provider: Any = None) -> Any:
        """Publish the draft's pipeline under the draft's name; returns the PublishedPipeline."""
        from runner.sdk.pipeline import PublishedPipeline
        pub_id = catalog.publish_pipeline(self._conn, self._graph_draft_id, self._name,
                                          self._description, None,
                                          self._record.continue_on_step_failure)
        return PublishedPipeline.get(self._workspace, pub_id)

    def delete(self, _workflow_provider: Any = None) -> None:
        """Remove the draft (runs it started stay)."""
        store_drafts.delete_draft(self._conn, self._id)

    def save(self, path: str | None = None, _workflow_provider: Any = None) -> str:
        """Write the draft's pipeline to `path` (a folder: `<path>/<name>.yml`), as JSON."""
        return save_spec(self.get_graph().to_json(), path, f"{self._name}.yml")

    def __repr__(self) -> str:
        return (f"PipelineDraft(Name: {self._name}, Id: {self._id}, Tags: {self._tags}, "
                f"Last Submitted Pipeline Run Id: {self._last_submitted_pipeline_run_id})")
