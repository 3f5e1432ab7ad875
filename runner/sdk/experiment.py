"""`Experiment`: a named group of runs, and where pipelines are submitted."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from runner.client import Client, SubmitOptions, WorkspaceIdentity
from runner.sdk.data import parameter_values
from runner.sdk.runs import PipelineRun, StepRun
from runner.sdk.experiment_api import ExperimentApi
from runner.step_runtime.exceptions import UserErrorException
from store import catalog
from store.runs import list_pipeline_runs

_NAME = re.compile(r"^[a-zA-Z0-9][\w\-]{0,254}$")


class Experiment(ExperimentApi):
    """An experiment of the workspace; `submit` starts a pipeline run in it."""

    def __init__(self, workspace: Any, name: str, _skip_name_validation: bool = False,
                 _id: str | None = None, _archived_time: Any = None, _create_in_cloud: bool = True,
                 _experiment_dto: Any = None, **kwargs: Any) -> None:
        if not _skip_name_validation and not _NAME.match(name or ""):
            raise UserErrorException(
                f"Experiment name {name!r} is invalid: it must start with a letter or digit and "
                "contain only letters, digits, '_' and '-' (at most 255 characters)")
        self._workspace = workspace
        self._name = name
        self._id = _id

    @property
    def name(self) -> str:
        return self._name

    @property
    def workspace(self) -> Any:
        return self._workspace

    workspace_object = workspace

    @property
    def id(self) -> str:
        if self._id is None:
            self._id = catalog.ensure_experiment(self._workspace._local.conn, self._name)
        return self._id

    def submit(self, config: Any, tags: dict | None = None, **kwargs: Any) -> PipelineRun:  # or a ScriptRun
        """Submit a Pipeline, PublishedPipeline or PipelineDraft (returns its PipelineRun), or
        a ScriptRunConfig (a single run: returns its ScriptRun).

        As in the SDK, `regenerate_outputs`, `continue_on_step_failure` and
        `pipeline_parameters` (alias `pipeline_params`) and, for a PipelineEndpoint,
        `pipeline_version` are read and other kwargs are ignored.
        """
        if hasattr(config, "_bind"):  # a ScriptRunConfig: what it runs needs the workspace
            config = config._bind(self._workspace)
        if not hasattr(config, "_submission"):
            raise UserErrorException(f"cannot submit a {type(config).__name__}: amlocal runs "
                                     "ScriptRunConfig, Pipeline, PublishedPipeline and PipelineDraft objects")
        version = kwargs.get("pipeline_version")  # a PipelineEndpoint's version
        spec, pipeline_name, published_id, continue_default = (
            config._submission(self._name) if version is None
            else config._submission(self._name, str(version)))
        continue_on_failure = kwargs.get("continue_on_step_failure")
        if continue_on_failure is None:
            continue_on_failure = continue_default
        ws = self._workspace
        options = SubmitOptions(
            experiment_name=self._name, pipeline_name=pipeline_name,
            parameters=parameter_values(kwargs.get("pipeline_parameters", kwargs.get("pipeline_params")) or {}),
            tags={k: str(v) for k, v in (tags or {}).items()},
            continue_on_step_failure=bool(continue_on_failure),
            regenerate_outputs=bool(kwargs.get("regenerate_outputs", False)),
            identity=WorkspaceIdentity(ws.subscription_id, ws.resource_group, ws.name),
            published_pipeline_id=published_id, source_folder=Path.cwd())
        submitted = Client(ws._local).submit(spec, options)
        run = config._run(self, submitted.run_id) if hasattr(config, "_run") else PipelineRun(self, submitted.run_id)
        print(f"Submitted {'PipelineRun' if type(run) is PipelineRun else 'Run'} {submitted.run_id}")
        print(f"Link to Azure Machine Learning Portal: amlocal show {submitted.run_id}")
        print(f"amlocal: {submitted.executor.why}")
        return run

    def start_logging(self, *args: Any, outputs: str | None = None, snapshot_directory: str | None = None,
                      display_name: str | None = None, **kwargs: Any) -> "InteractiveRun":
        """Start an interactive run of this experiment, logged from this process; end it with
        `complete()` or `fail()` (or use it as a context manager)."""
        from runner.sdk.interactive_run import InteractiveRun
        ws = self._workspace
        options = SubmitOptions(
            experiment_name=self._name, pipeline_name=display_name or self._name,
            identity=WorkspaceIdentity(ws.subscription_id, ws.resource_group, ws.name),
            source_folder=Path(snapshot_directory or Path.cwd()))
        run_id = Client(ws._local).start_interactive(options)
        return InteractiveRun(self, run_id, outputs=outputs)

    def get_runs(self, type: str | None = None, tags: Any = None, properties: Any = None,
                 include_children: bool = False) -> Iterator[PipelineRun | StepRun]:
        """This experiment's pipeline runs, newest first (step runs too with include_children)."""
        for record in list_pipeline_runs(self._workspace._local.conn, self.id):
            if tags and not _matches(record.tags, tags):
                continue
            if properties and not _matches(record.properties, properties):
                continue
            run = PipelineRun(self, record.id)
            yield run
            if include_children:
                yield from run.get_steps()

    @staticmethod
    def list(workspace: Any, experiment_name: str | None = None, view_type: str = "ActiveOnly",
             tags: Any = None) -> list["Experiment"]:
        """The workspace's experiments, newest first."""
        return [Experiment(workspace, e.name, _id=e.id)
                for e in catalog.list_experiments(workspace._local.conn)
                if experiment_name is None or e.name == experiment_name]

    def __repr__(self) -> str:
        return f"Experiment(Name: {self._name}, Workspace: {self._workspace.name})"


def _matches(values: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):
        return wanted in values
    return all(values.get(k) == str(v) for k, v in dict(wanted).items())
