"""`Experiment`: a named group of runs, and where pipelines are submitted."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

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

    def submit(self, config: Any, tags: dict | None = None, **kwargs: Any) -> Any:
        """Submit a Pipeline or PublishedPipeline; returns its PipelineRun.

        As in the SDK, `regenerate_outputs`, `continue_on_step_failure` and
        `pipeline_parameters` (alias `pipeline_params`) are read and other kwargs are ignored.
        """
        from runner.engine.submission import submit_run
        from runner.sdk.pipeline import Pipeline, PublishedPipeline
        from runner.sdk.runs import PipelineRun
        parameters = kwargs.get("pipeline_parameters", kwargs.get("pipeline_params"))
        continue_on_failure = kwargs.get("continue_on_step_failure")
        identity = {"subscription_id": self._workspace.subscription_id,
                    "resource_group": self._workspace.resource_group,
                    "workspace_name": self._workspace.name}
        if isinstance(config, Pipeline):
            spec, cycles, published_id = config.graph, config.validate(), None
            name = config._description or self._name
        elif isinstance(config, PublishedPipeline):
            spec, cycles, published_id = config._spec(), [], config.id
            name = config.name
            if continue_on_failure is None:
                continue_on_failure = config.continue_on_step_failure
        elif hasattr(config, "_submission_spec"):  # a PipelineDraft: its stored spec and name
            (spec, name), cycles, published_id = config._submission_spec(), [], None
        else:
            raise UserErrorException(f"cannot submit a {type(config).__name__}: amlocal runs "
                                     "Pipeline, PublishedPipeline and PipelineDraft objects")
        run_id, executor = submit_run(
            self._workspace._local, experiment_name=self._name, pipeline_name=name, spec=spec,
            cycle_errors=cycles, parameters=parameters, tags=tags,
            continue_on_step_failure=bool(continue_on_failure),
            regenerate_outputs=bool(kwargs.get("regenerate_outputs", False)), identity=identity,
            source_folder=Path(os.getcwd()), published_pipeline_id=published_id)
        run = PipelineRun(self, run_id)
        print(f"Submitted PipelineRun {run_id}")
        print(f"Link to Azure Machine Learning Portal: amlocal show {run_id}")
        print(f"amlocal: {executor.why}")
        _submitted_runs.append(run)
        return run

    def get_runs(self, type: str | None = None, tags: Any = None, properties: Any = None,
                 include_children: bool = False) -> Iterator[Any]:
        """This experiment's pipeline runs, newest first (step runs too with include_children)."""
        from runner.sdk.runs import PipelineRun
        for row in list_pipeline_runs(self._workspace._local.conn, self.id):
            run = PipelineRun(self, row["id"])
            if tags and not _matches(run.get_tags(), tags):
                continue
            if properties and not _matches(run.get_properties(), properties):
                continue
            yield run
            if include_children:
                yield from run.get_steps()

    @staticmethod
    def list(workspace: Any, experiment_name: str | None = None, view_type: str = "ActiveOnly",
             tags: Any = None) -> list["Experiment"]:
        """The workspace's experiments, newest first."""
        rows = catalog.list_experiments(workspace._local.conn)
        return [Experiment(workspace, r["name"], _id=r["id"]) for r in rows
                if experiment_name is None or r["name"] == experiment_name]

    def __repr__(self) -> str:
        return f"Experiment(Name: {self._name}, Workspace: {self._workspace.name})"


def _matches(values: dict, wanted: Any) -> bool:
    if isinstance(wanted, str):
        return wanted in values
    return all(values.get(k) == str(v) for k, v in dict(wanted).items())


# Runs submitted by this process, so `amlocal run` can wait for those a script did not wait on.
_submitted_runs: list[Any] = []


def submitted_runs() -> list[Any]:
    """The PipelineRuns submitted by this process so far."""
    return list(_submitted_runs)
