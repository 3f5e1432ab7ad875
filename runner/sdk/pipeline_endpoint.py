"""`PipelineEndpoint`: one name (and one REST URL) over versions of published pipelines.

Versions are numbered "0", "1", … as they are added; a submit, over REST or from the SDK,
runs the default version unless a `pipeline_version` is named. Kept in the workspace database
(store/pipeline_endpoints.py); submits go through `Experiment.submit` and the client API.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from runner.sdk.pipeline import PublishedPipeline
from runner.service_control import base_url, ensure_service, workspace_path
from runner.step_runtime.exceptions import UserErrorException
from store import pipeline_endpoints as store_endpoints
from store.errors import NotFoundError
from store.records import PipelineEndpointRecord

__all__ = ["PipelineEndpoint", "PipelineIdVersion"]


class PipelineIdVersion(NamedTuple):
    """One version of an endpoint: the published pipeline id and its version string."""

    pipeline_id: str
    version: str


class PipelineEndpoint:
    """A named endpoint whose submits run its default (or a named) published pipeline version."""

    def __init__(self, workspace: Any, id: str, name: str, description: str | None, status: str,
                 default_version: str, endpoint: str | None, pipeline_version_list: list,
                 _pipeline_endpoint_provider: Any = None, _published_pipeline_provider: Any = None,
                 **kwargs: Any) -> None:
        self._workspace = workspace
        self._id = id
        self._name = name
        self._description = description
        self._status = status
        self._default_version = default_version
        self._versions = list(pipeline_version_list)

    # ----------------------------------------------------------------- constructors
    @staticmethod
    def _of(workspace: Any, record: PipelineEndpointRecord) -> "PipelineEndpoint":
        return PipelineEndpoint(workspace, record.id, record.name, record.description, record.status,
                                record.default_version, None,
                                [PipelineIdVersion(p, v) for v, p in record.versions])

    @staticmethod
    def publish(workspace: Any, name: str, description: str, pipeline: Any,
                _workflow_provider: Any = None, _service_endpoint: Any = None) -> "PipelineEndpoint":
        """A new endpoint `name` whose default version "0" is `pipeline` (a PublishedPipeline or
        a Pipeline, which is published first); the service is started so its URL answers."""
        conn = workspace._local.conn
        if store_endpoints.find_endpoint_name(conn, name):
            raise UserErrorException(f"PipelineEndpoint name {name} already exists; use "
                                     "PipelineEndpoint.get(workspace, name=...).add_default(pipeline)")
        published = _published(pipeline, name, description)
        record = store_endpoints.create_endpoint(conn, name, description, published.id)
        ensure_service(workspace._local.layout)
        return PipelineEndpoint._of(workspace, record)

    @staticmethod
    def get(workspace: Any, id: str | None = None, name: str | None = None,
            _workflow_provider: Any = None, _service_endpoint: Any = None) -> "PipelineEndpoint":
        """The endpoint with `id` or `name` (one of them is required)."""
        if id is None and name is None:
            raise ValueError("PipelineEndpoint.get needs an id or a name")
        try:
            record = store_endpoints.get_endpoint(workspace._local.conn, endpoint_id=id, name=name)
        except NotFoundError as exc:
            raise UserErrorException(str(exc)) from None
        return PipelineEndpoint._of(workspace, record)

    @staticmethod
    def list(workspace: Any, active_only: bool = True, max_results: int = 100,
             _workflow_provider: Any = None, _service_endpoint: Any = None) -> list["PipelineEndpoint"]:
        """The workspace's endpoints, newest first (at most `max_results`)."""
        records = store_endpoints.list_endpoints(workspace._local.conn, active_only)
        return [PipelineEndpoint._of(workspace, r) for r in records[:max_results]]

    @staticmethod
    def get_all(workspace: Any, active_only: bool = True, _workflow_provider: Any = None,
                _service_endpoint: Any = None) -> list["PipelineEndpoint"]:
        """Every endpoint (deprecated in the SDK in favour of `list`)."""
        return PipelineEndpoint.list(workspace, active_only)

    # ----------------------------------------------------------------- properties
    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def status(self) -> str:
        return self._status

    @property
    def default_version(self) -> str:
        return self._default_version

    @property
    def pipeline_version_list(self) -> list[PipelineIdVersion]:
        return list(self._versions)

    @property
    def endpoint(self) -> str:
        """The REST URL that submits this endpoint's default version (`?pipelineVersion=` for
        another); the workspace service is started when none runs."""
        ws = self._workspace
        record = ensure_service(ws._local.layout)
        return (base_url(record) + workspace_path(ws.subscription_id, ws.resource_group, ws.name)
                + f"/PipelineRuns/PipelineEndpointSubmit/Id/{self._id}")

    @property
    def swaggerurl(self) -> str:
        """The service's OpenAPI description."""
        return base_url(ensure_service(self._workspace._local.layout)) + "/openapi.json"

    # ----------------------------------------------------------------- versions
    def _refresh(self) -> None:
        fresh = store_endpoints.get_endpoint(self._workspace._local.conn, endpoint_id=self._id)
        self._name, self._status = fresh.name, fresh.status
        self._default_version = fresh.default_version
        self._versions = [PipelineIdVersion(p, v) for v, p in fresh.versions]

    def add(self, pipeline: Any) -> None:
        """Add `pipeline` (a PublishedPipeline) as the next version; the default is unchanged."""
        store_endpoints.add_version(self._workspace._local.conn, self._id, _published(pipeline).id)
        self._refresh()

    def add_default(self, pipeline: Any) -> None:
        """Add `pipeline` as the next version and make it the default."""
        version = store_endpoints.add_version(self._workspace._local.conn, self._id,
                                              _published(pipeline).id)
        self.set_default_version(version)

    def set_default(self, pipeline: Any) -> None:
        """Make the version holding `pipeline` the default (added first if it is not there)."""
        self.add_default(pipeline)

    def set_default_version(self, version: str) -> None:
        """Make `version` the default."""
        version = str(version)
        if version not in {v.version for v in self._versions} | \
                {v for v, _ in store_endpoints.get_endpoint(self._workspace._local.conn,
                                                            endpoint_id=self._id).versions}:
            raise UserErrorException(f"PipelineEndpoint {self._name} has no version {version} "
                                     f"(its versions: {', '.join(v.version for v in self._versions)})")
        store_endpoints.update_endpoint(self._workspace._local.conn, self._id,
                                        default_version=version)
        self._refresh()

    def get_default_version(self) -> str:
        """The default version's string."""
        return self._default_version

    def get_pipeline(self, version: str | None = None) -> PublishedPipeline:
        """The published pipeline of `version` (default: the default version)."""
        wanted = str(version) if version is not None else self._default_version
        for entry in self._versions:
            if entry.version == wanted:
                return PublishedPipeline.get(self._workspace, entry.pipeline_id)
        raise UserErrorException(f"PipelineEndpoint {self._name} has no version {wanted} "
                                 f"(its versions: {', '.join(v.version for v in self._versions)})")

    def list_versions(self) -> list[PipelineIdVersion]:
        """Every version, oldest first."""
        return list(self._versions)

    get_all_versions = list_versions

    def list_pipelines(self, active_only: bool = True) -> list[PublishedPipeline]:
        """The published pipelines of every version (only active ones with `active_only`)."""
        found = [PublishedPipeline.get(self._workspace, v.pipeline_id) for v in self._versions]
        return [p for p in found if p.status == "Active" or not active_only]

    get_all_pipelines = list_pipelines

    # ----------------------------------------------------------------- status and name
    def set_name(self, name: str) -> None:
        """Rename the endpoint (names are unique in the workspace)."""
        if store_endpoints.find_endpoint_name(self._workspace._local.conn, name):
            raise UserErrorException(f"PipelineEndpoint name {name} already exists")
        store_endpoints.update_endpoint(self._workspace._local.conn, self._id, name=name)
        self._refresh()

    def _set_status(self, status: str) -> None:
        store_endpoints.update_endpoint(self._workspace._local.conn, self._id, status=status)
        self._refresh()

    def enable(self) -> None:
        """Accept submits again."""
        self._set_status("Active")

    def disable(self) -> None:
        """Refuse submits until enabled."""
        self._set_status("Disabled")

    def archive(self) -> None:
        """Archive the endpoint (it refuses submits and leaves the active list)."""
        self._set_status("Deprecated")

    def reactivate(self, name: str) -> None:
        """Make an archived endpoint active again, under `name`."""
        if name != self._name:
            self.set_name(name)
        self._set_status("Active")

    # ----------------------------------------------------------------- submitting
    def _submission(self, experiment_name: str, pipeline_version: str | None = None) -> Any:
        if self._status != "Active":
            raise UserErrorException(f"PipelineEndpoint {self._name} is {self._status}; enable it first")
        return self.get_pipeline(pipeline_version)._submission(experiment_name)

    def submit(self, experiment_name: str, pipeline_parameters: dict | None = None,
               parent_run_id: str | None = None, pipeline_version: str | None = None) -> Any:
        """Run the default version (or `pipeline_version`) in `experiment_name`."""
        from runner.sdk.experiment import Experiment
        return Experiment(self._workspace, experiment_name).submit(
            self, pipeline_parameters=pipeline_parameters, pipeline_version=pipeline_version)

    def __repr__(self) -> str:
        return (f"PipelineEndpoint(Name: {self._name}, Id: {self._id}, Status: {self._status}, "
                f"Default version: {self._default_version})")


def _published(pipeline: Any, name: str | None = None, description: str | None = None) -> PublishedPipeline:
    if isinstance(pipeline, PublishedPipeline):
        return pipeline
    if hasattr(pipeline, "publish"):
        return pipeline.publish(name=name, description=description)
    raise UserErrorException(f"a PipelineEndpoint version is a PublishedPipeline or a Pipeline, "
                             f"not a {type(pipeline).__name__}")
