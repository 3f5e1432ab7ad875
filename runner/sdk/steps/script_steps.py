"""Steps that run a Python script: PythonScriptStep, and the EstimatorStep and MpiStep
variants that the SDK builds on it."""
from __future__ import annotations

import logging
from typing import Any

from runner.sdk.environment import refuse_cloud_only_image
from runner.sdk.runconfig import RunConfiguration
from runner.sdk.pipeline_data import PipelineParameter
from runner.sdk.steps.base import BuildContext, PipelineStep
from runner.spec import RunConfigSpec, StepSpec, Token

log = logging.getLogger("azureml.pipeline.steps")

RUNCONFIG_PIPELINE_PARAM_KEYS = ("NodeCount", "MpiProcessCountPerNode", "TensorflowWorkerCount",
                                 "TensorflowParameterServerCount")


def compute_target_name(target: Any, workspace: Any, check: bool = True) -> str:
    """The registered name of `target` (a name, a ComputeTarget, or a (name, type) tuple)."""
    if target is None or target == "local":
        return "local"
    if isinstance(target, tuple):
        return target[0]
    if isinstance(target, str):
        if check and target not in workspace.compute_targets:
            from runner.sdk.compute import compute_not_found
            raise compute_not_found(target)
        return target
    return target.name


class _PythonScriptStepBase(PipelineStep):
    """What PythonScriptStep and CommandStep share: params, run configuration, source
    directory, compute target and reuse, checked as the SDK checks them."""

    def __init__(self, script_name: str | None, name: str, arguments: list | None,
                 compute_target: Any, runconfig: RunConfiguration | None,
                 runconfig_pipeline_params: dict | None, inputs: list | None,
                 outputs: list | None, params: dict | None, source_directory: str | None,
                 allow_reuse: bool, version: str | None, hash_paths: list | None = None,
                 command: str | None = None) -> None:
        params = dict(params or {})
        runconfig_pipeline_params = dict(runconfig_pipeline_params or {})
        both = set(params) & set(runconfig_pipeline_params)
        if both:
            raise ValueError(f"Parameter {sorted(both)[0]} is in both params and "
                             "runconfig_pipeline_params")
        for key in runconfig_pipeline_params:
            if key not in RUNCONFIG_PIPELINE_PARAM_KEYS:
                raise ValueError(f"runconfig_pipeline_params key {key} is not supported; use one "
                                 f"of {', '.join(RUNCONFIG_PIPELINE_PARAM_KEYS)}")
        for arg in arguments or []:
            if isinstance(arg, PipelineParameter) and arg.name in params:
                raise Exception(f"Parameter name {arg.name} is already in use")
        if hash_paths:
            log.warning("Parameter 'hash_paths' is deprecated, will be removed. All files under "
                        "source_directory is hashed except files listed in .amlignore or "
                        ".gitignore.")
        super().__init__(name, inputs, outputs, arguments, fix_port_name_collisions=True)
        self._script_name = script_name
        self._command = command
        self._source_directory = source_directory
        self._runconfig = runconfig
        self._compute_target = compute_target
        if compute_target is None and runconfig is not None:
            self._compute_target = runconfig.target
        self._params = params
        self._runconfig_pipeline_params = runconfig_pipeline_params
        self._allow_reuse = allow_reuse
        self._version = version
        self._hash_paths = hash_paths

    def _validate_at_build(self, ctx: BuildContext) -> None:
        self.get_source_directory(ctx, self._source_directory, self._script_name)
        refuse_cloud_only_image(self.name, (self._runconfig or RunConfiguration()).environment)
        compute_target_name(self._compute_target, ctx.workspace)

    def _compile_params(self, ctx: BuildContext) -> dict[str, Token]:
        out = {}
        for key, value in {**self._params, **self._runconfig_pipeline_params}.items():
            out[key] = self._compile_argument(value, ctx) if isinstance(value, PipelineParameter) \
                else Token("literal", str(value))
        return out

    def _runconfig_spec(self) -> RunConfigSpec:
        return (self._runconfig or RunConfiguration())._to_spec()

    def _compile(self, ctx: BuildContext) -> StepSpec:
        return self._compile_base(
            ctx, "python", script_name=self._script_name, command=self._command,
            source_directory=self.get_source_directory(ctx, self._source_directory, None)[0],
            params=self._compile_params(ctx),
            compute_target=compute_target_name(self._compute_target, ctx.workspace, check=False),
            runconfig=self._runconfig_spec(), version=self._version, mpi=self._mpi_spec())

    def _mpi_spec(self) -> dict | None:
        """The MPI layout an MpiStep records (None for other steps)."""
        return None


class PythonScriptStep(_PythonScriptStepBase):
    """Run `script_name` from `source_directory` with `arguments`, inputs and outputs."""

    def __init__(self, script_name: str, name: str | None = None, arguments: list | None = None,
                 compute_target: Any = None, runconfig: RunConfiguration | None = None,
                 runconfig_pipeline_params: dict | None = None, inputs: list | None = None,
                 outputs: list | None = None, params: dict | None = None,
                 source_directory: str | None = None, allow_reuse: bool = True,
                 version: str | None = None, hash_paths: list | None = None) -> None:
        if script_name is None:
            raise ValueError("script_name is required (the script this step runs)")
        if not isinstance(script_name, str):
            raise ValueError(f"script_name must be a string, not {type(script_name).__name__}")
        super().__init__(script_name, name or script_name, arguments, compute_target, runconfig,
                         runconfig_pipeline_params, inputs, outputs, params, source_directory,
                         allow_reuse, version, hash_paths)


class EstimatorStep(PythonScriptStep):
    """Run an `Estimator`'s entry script as a step (deprecated in the SDK, still common)."""

    def __init__(self, name: str | None = None, estimator: Any = None,
                 estimator_entry_script_arguments: list | None = None,
                 runconfig_pipeline_params: dict | None = None, inputs: list | None = None,
                 outputs: list | None = None, compute_target: Any = None, allow_reuse: bool = True,
                 version: str | None = None) -> None:
        if estimator is None:
            raise ValueError("estimator is required")
        if compute_target is None:
            raise ValueError("compute_target is required")
        if estimator_entry_script_arguments is None:
            raise ValueError("estimator_entry_script_arguments is required (pass [] for none)")
        if estimator.script_params:
            raise ValueError("script_params of the estimator must be empty in an EstimatorStep; "
                             "pass them as estimator_entry_script_arguments")
        if estimator.inputs:
            raise ValueError("data inputs of the estimator must be passed as the step's inputs")
        log.warning("EstimatorStep is deprecated; use PythonScriptStep with a RunConfiguration")
        super().__init__(estimator.entry_script, name=name, arguments=estimator_entry_script_arguments,
                         compute_target=compute_target, runconfig=estimator.run_config,
                         runconfig_pipeline_params=runconfig_pipeline_params, inputs=inputs,
                         outputs=outputs, source_directory=estimator.source_directory,
                         allow_reuse=allow_reuse, version=version)
        self.step_type = "EstimatorStep"


class MpiStep(PythonScriptStep):
    """An MPI job; locally the script runs once, with the node and process counts recorded."""

    def __init__(self, name: str | None = None, source_directory: str | None = None,
                 script_name: str | None = None, arguments: list | None = None,
                 compute_target: Any = None, node_count: int | None = None,
                 process_count_per_node: int | None = None, inputs: list | None = None,
                 outputs: list | None = None, allow_reuse: bool = True, version: str | None = None,
                 hash_paths: list | None = None, **kwargs: Any) -> None:
        required = dict(name=name, source_directory=source_directory, script_name=script_name,
                        arguments=arguments, compute_target=compute_target, node_count=node_count,
                        process_count_per_node=process_count_per_node)
        for key, value in required.items():
            if value is None:
                raise ValueError(f"{key} is required for MpiStep")
        target_type = getattr(compute_target, "type", None)
        if target_type is not None and target_type not in ("AmlCompute", "Kubernetes"):
            raise Exception(f"Compute target of type {target_type} is not supported by MpiStep; "
                            "use AmlCompute")
        log.warning("MpiStep is deprecated; use CommandStep")
        runconfig = RunConfiguration()
        for pkg in kwargs.get("pip_packages") or []:
            runconfig.environment.python.conda_dependencies.add_pip_package(pkg)
        for pkg in kwargs.get("conda_packages") or []:
            runconfig.environment.python.conda_dependencies.add_conda_package(pkg)
        if kwargs.get("use_gpu"):
            runconfig.environment.docker.base_image = kwargs.get("custom_docker_image") or \
                runconfig.environment.docker.base_image
        super().__init__(script_name, name=name, arguments=arguments, compute_target=compute_target,
                         runconfig=runconfig, inputs=inputs, outputs=outputs,
                         params=dict(kwargs.get("environment_variables") or {}),
                         source_directory=source_directory, allow_reuse=allow_reuse,
                         version=version, hash_paths=hash_paths)
        self.step_type = "MpiStep"
        self._node_count = node_count
        self._process_count_per_node = process_count_per_node

    def _mpi_spec(self) -> dict | None:
        return {"node_count": self._node_count,
                "process_count_per_node": self._process_count_per_node}
