"""`Pipeline` (build, validate, submit, publish) and `PublishedPipeline`."""
from __future__ import annotations

import os
from typing import Any

from runner.sdk.graph import StepSequence, build_graph
from runner.sdk.published_pipeline_api import PublishedPipelineApi
from runner.sdk.steps.base import BuildContext
from runner.client import refuse_cycles
from runner.service_control import base_url, ensure_service, workspace_path
from runner.spec import ParameterSpec, PipelineSpec
from store import catalog

__all__ = ["Pipeline", "PublishedPipeline", "StepSequence"]



class Pipeline:
    """A graph of steps. Building it validates everything the SDK validates at this point and
    compiles the PipelineSpec that every later run works from."""

    def __init__(self, workspace: Any, steps: Any, description: str | None = None,
                 default_datastore: Any = None, default_source_directory: str | None = None,
                 resolve_closure: bool = True, _workflow_provider: Any = None,
                 _service_endpoint: Any = None, **kwargs: Any) -> None:
        for key in kwargs:
            if key != "enable_email_notification":
                raise ValueError(f"parameter {key} is not recognized for Pipeline")
        self._workspace = workspace
        self._description = description
        graph = build_graph(steps, resolve_closure)
        datastore = (default_datastore.name if default_datastore is not None
                     else catalog.default_datastore_name(workspace._local.conn))
        ctx = BuildContext(workspace, datastore, default_source_directory or os.getcwd(),
                           graph.node_ids)
        for step in graph.steps:
            step._validate_at_build(ctx)
        ordered = graph.order + [s for s in graph.steps if s not in graph.order]
        compiled = tuple(step._compile(ctx) for step in ordered)
        self._graph = graph
        self._cycle_errors = list(graph.cycle_errors)
        self._spec = PipelineSpec(
            steps=compiled, description=description, default_datastore=datastore,
            parameters={name: _parameter_spec(p.default_value) for name, p in ctx.parameters.items()})

    @property
    def graph(self) -> PipelineSpec:
        """The compiled PipelineSpec, which every run of this pipeline works from."""
        return self._spec

    def validate(self) -> list[str]:
        """Problems that would stop a submit (cycles), as the SDK's list of strings."""
        return list(self._cycle_errors)

    def _submission(self, experiment_name: str) -> tuple[PipelineSpec, str, str | None, bool | None]:
        """(spec, pipeline name, published pipeline id, continue_on_step_failure default) for
        `Experiment.submit`: a pipeline is named by its description, else its experiment."""
        return self._spec, self._description or experiment_name, None, None

    def submit(self, experiment_name: str, pipeline_parameters: dict | None = None,
               continue_on_step_failure: bool = False, regenerate_outputs: bool = False,
               parent_run_id: str | None = None, credential_passthrough: Any = None,
               **kwargs: Any) -> Any:
        """Submit a run to experiment `experiment_name` (unknown kwargs raise, as in the SDK)."""
        if kwargs:
            raise ValueError(f"parameter {next(iter(kwargs))} is not recognized for Pipeline.submit")
        from runner.sdk.experiment import Experiment
        return Experiment(self._workspace, experiment_name).submit(
            self, pipeline_parameters=pipeline_parameters,
            continue_on_step_failure=continue_on_step_failure,
            regenerate_outputs=regenerate_outputs, parent_run_id=parent_run_id)

    def publish(self, name: str | None = None, description: str | None = None,
                version: str | None = None, continue_on_step_failure: bool | None = None) -> "PublishedPipeline":
        """Store this pipeline under `name`, to be submitted again by id."""
        refuse_cycles(self._spec)
        conn = self._workspace._local.conn
        pipeline_id = catalog.ensure_pipeline(conn, name or self._description or "pipeline",
                                              self._spec.to_json())
        pub_id = catalog.publish_pipeline(conn, pipeline_id, name or "pipeline", description,
                                          version, continue_on_step_failure)
        ensure_service(self._workspace._local.layout)  # so its endpoint answers at once
        return PublishedPipeline.get(self._workspace, pub_id)

    def service_endpoint(self) -> str:
        return str(self._workspace._local.layout.root)


def _parameter_spec(default: Any) -> ParameterSpec:
    from runner.sdk.data import DataPath, HostDatasetInputs
    if isinstance(default, DataPath):
        return ParameterSpec("datapath", default._as_parameter_value())
    if isinstance(default, HostDatasetInputs):  # {"dataset": definition, "asset_id": id}
        return ParameterSpec("dataset", default._as_parameter_value())
    kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(default), "dataset")
    return ParameterSpec(kind, default if kind != "dataset" else str(default))


class PublishedPipeline(PublishedPipelineApi):
    """A published pipeline: a stored spec that can be submitted again by id."""

    def __init__(self, name: str, graph_id: str, description: str | None, version: str | None,
                 published_pipeline_id: str, status: str, endpoint: str, total_run_steps: int,
                 workspace: Any, continue_on_step_failure: bool | None = None,
                 _pipeline_provider: Any = None, **kwargs: Any) -> None:
        self._name = name
        self._graph_id = graph_id
        self._description = description
        self._version = version
        self._id = published_pipeline_id
        self._status = status
        self._endpoint = endpoint
        self._total_run_steps = total_run_steps
        self._workspace = workspace
        self._continue_on_step_failure = continue_on_step_failure

    @staticmethod
    def get(workspace: Any, id: str, _workflow_provider: Any = None,
            _service_endpoint: Any = None) -> "PublishedPipeline":
        record = catalog.get_published_pipeline(workspace._local.conn, id)
        steps = catalog.get_pipeline(workspace._local.conn, record.pipeline_id).spec["steps"]
        return PublishedPipeline(record.name, record.pipeline_id, record.description,
                                 record.version, record.id, record.status,
                                 "", len(steps),
                                 workspace, record.continue_on_step_failure)

    @staticmethod
    def list(workspace: Any, active_only: bool = True, _service_endpoint: Any = None) -> list["PublishedPipeline"]:
        return [PublishedPipeline.get(workspace, record.id)
                for record in catalog.list_published_pipelines(workspace._local.conn, active_only)]

    get_all = list

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
    def version(self) -> str | None:
        return self._version

    @property
    def status(self) -> str:
        return self._status

    @property
    def graph_id(self) -> str:
        return self._graph_id

    @property
    def total_run_steps(self) -> int:
        return self._total_run_steps

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._continue_on_step_failure

    @property
    def endpoint(self) -> str:
        """The REST URL that submits this pipeline (POST with `ExperimentName` and
        `ParameterAssignments`): the workspace service's, started in the background when none
        runs, in Azure's path shape."""
        ws = self._workspace
        record = ensure_service(ws._local.layout)
        return (base_url(record) + workspace_path(ws.subscription_id, ws.resource_group, ws.name)
                + f"/PipelineRuns/PipelineSubmit/{self._id}")

    def _spec(self) -> PipelineSpec:
        return PipelineSpec.from_json(catalog.get_pipeline(self._workspace._local.conn,
                                                           self._graph_id).spec)

    def _submission(self, experiment_name: str) -> tuple[PipelineSpec, str, str | None, bool | None]:
        """(spec, pipeline name, published pipeline id, continue_on_step_failure default)."""
        return self._spec(), self._name, self._id, self._continue_on_step_failure

    def get_step_names(self) -> list[str]:
        return [s.name for s in self._spec().steps]

    def get_graph(self) -> PipelineSpec:
        return self._spec()

    def enable(self) -> None:
        catalog.set_published_status(self._workspace._local.conn, self._id, "Active")
        self._status = "Active"

    def disable(self) -> None:
        catalog.set_published_status(self._workspace._local.conn, self._id, "Disabled")
        self._status = "Disabled"

    def submit(self, workspace: Any, experiment_name: str, pipeline_parameters: dict | None = None,
               _workflow_provider: Any = None, _service_endpoint: Any = None,
               parent_run_id: str | None = None, continue_on_step_failure: bool | None = None) -> Any:
        """Start a run of this published pipeline in `experiment_name`."""
        from runner.sdk.experiment import Experiment
        return Experiment(workspace, experiment_name).submit(
            self, pipeline_parameters=pipeline_parameters,
            continue_on_step_failure=continue_on_step_failure)

    def __repr__(self) -> str:
        return f"PublishedPipeline(Name: {self._name}, Id: {self._id}, Status: {self._status})"
