"""`ScriptRunConfig` and `Experiment.submit(config)`: a single run, the other half of v1.

A single run is recorded as a pipeline run of one step, so it is listed, shown, followed and
rerun like any pipeline run (`amlocal runs`, `amlocal show ID`): the config compiles to a
one-step PipelineSpec (a PythonScriptStep, or a CommandStep for `command=`) that never reuses
an earlier run, as a single run in Azure always runs. The `ScriptRun` that `submit` returns
reads that step's metrics and files.
"""
from __future__ import annotations

import os
from typing import Any

from runner.sdk.pipeline import Pipeline
from runner.sdk.runconfig import RunConfiguration
from runner.sdk.runs import PipelineRun, StepRun
from runner.spec import PipelineSpec

DEFAULT_MAX_RUN_DURATION_SECONDS = 2592000  # the SDK's default: 30 days


class ScriptRunConfig:
    """What to run (a script with arguments, or a command), from which folder, where and in
    which environment: the SDK's ScriptRunConfig."""

    def __init__(self, source_directory: str, script: str | None = None,
                 arguments: list | None = None, run_config: RunConfiguration | None = None,
                 _telemetry_values: Any = None, compute_target: Any = None,
                 environment: Any = None, distributed_job_config: Any = None,
                 resume_from: Any = None,
                 max_run_duration_seconds: int | None = DEFAULT_MAX_RUN_DURATION_SECONDS,
                 command: str | list | None = None, docker_runtime_config: Any = None) -> None:
        if script and command:
            raise ValueError("Only one of script or command can be specified, not both")
        if command and arguments:
            raise ValueError("arguments can only be specified with script; put them in command")
        self.source_directory = source_directory or "."
        self.script = script
        self.command = command
        self.arguments = list(arguments or [])
        self.run_config = run_config or RunConfiguration()
        self.run_config.script = script
        self.run_config.arguments = self.arguments
        if compute_target is not None:
            self.run_config.target = compute_target
        if environment is not None:
            self.run_config.environment = environment
        if docker_runtime_config is not None:
            self.run_config.docker = docker_runtime_config
        if max_run_duration_seconds != DEFAULT_MAX_RUN_DURATION_SECONDS:
            self.run_config.max_run_duration_seconds = max_run_duration_seconds
        self.distributed_job_config = distributed_job_config  # recorded; the script runs once

    @property
    def name(self) -> str:
        """The run's step name: the script, or the command's program."""
        if self.script:
            return os.path.basename(self.script)
        first = self.command[0] if isinstance(self.command, list) else (self.command or "command")
        return str(first).split()[0] if str(first).split() else "command"

    def _pipeline(self, workspace: Any) -> Pipeline:
        """The one-step pipeline this config runs as (built, so mistakes are raised now)."""
        from runner.sdk.steps.command_step import CommandStep
        from runner.sdk.steps.script_steps import PythonScriptStep
        folder = os.path.abspath(self.source_directory)
        if not os.path.isdir(folder):
            raise ValueError(f"source_directory {self.source_directory} does not exist")
        if self.command:
            step: Any = CommandStep(command=self.command, name=self.name, runconfig=self.run_config,
                                    source_directory=folder, allow_reuse=False)
        else:
            if not self.script:
                raise ValueError("ScriptRunConfig needs a script (or a command) to run")
            step = PythonScriptStep(self.script, name=self.name, arguments=self.arguments,
                                    runconfig=self.run_config, source_directory=folder,
                                    allow_reuse=False)
        return Pipeline(workspace, [step])

    def _bind(self, workspace: Any) -> "SingleRunSubmission":
        """This config as `Experiment.submit` takes it, for `workspace`."""
        return SingleRunSubmission(self, workspace)

    def __repr__(self) -> str:
        what = f"script={self.script!r}" if self.script else f"command={self.command!r}"
        return f"ScriptRunConfig(source_directory={self.source_directory!r}, {what})"


def get_run_config_from_script_run(script_run_config: ScriptRunConfig) -> RunConfiguration:
    """The RunConfiguration of `script_run_config` (its script and arguments set)."""
    return script_run_config.run_config


class SingleRunSubmission:
    """A ScriptRunConfig bound to the workspace it is submitted to, as `Experiment.submit`
    takes it: the spec to submit and the run object to return."""

    def __init__(self, config: ScriptRunConfig, workspace: Any) -> None:
        self.config = config
        self._spec = config._pipeline(workspace).graph

    def _submission(self, experiment_name: str) -> tuple[PipelineSpec, str, str | None, bool | None]:
        return self._spec, self.config.name, None, None

    def _run(self, experiment: Any, run_id: str) -> "ScriptRun":
        return ScriptRun(experiment, run_id)


class ScriptRun(PipelineRun):
    """A single run: its status, cancel, wait and details are its pipeline run's (its id is
    what `amlocal show` takes); its metrics and files are those of its one step."""

    @property
    def type(self) -> str:
        return "azureml.scriptrun"

    def _step(self) -> StepRun:
        (step,) = list(self.get_steps())
        return step

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: Any = None,
                    populate: bool = False) -> dict:
        """What the script logged (`Run.get_context().log`, and `run.parent.log`)."""
        metrics = super().get_metrics(name)
        metrics.update(self._step().get_metrics(name))
        return metrics

    def _artifacts(self) -> dict:
        files = super()._artifacts()
        files.update(self._step()._artifacts())
        return files

    def get_details(self) -> dict:
        details = super().get_details()
        step = self._step().get_details()
        details.update({key: step[key] for key in ("runDefinition", "logFiles", "target", "exitCode")})
        if details.get("error") is None:
            details["error"] = step.get("error")
        return details

    def get_stdout_log(self) -> str:
        return self._step().get_stdout_log()
