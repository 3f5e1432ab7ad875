"""`ParallelRunStep`: an entry script's `run(mini_batch)` over the files of a FileDataset or
the rows of a TabularDataset, in parallel worker processes, with Azure's output, error and
retry rules.

The step checks what the SDK checks when it is constructed (arguments, inputs, output,
config, source directory, entry script, with the SDK's messages) and compiles to a StepSpec of
kind `parallel`, whose `ParallelSpec` the engine turns into the driver's command line
(runner.engine.parallel_launch) and the driver (runner.step_runtime.parallel_driver) runs.

Inputs: a FileDataset (`as_named_input(...)`, mounted as Azure does), an
`OutputFileDatasetConfig` of an earlier step, or a TabularDataset (consumed directly: the
driver and the workers read its table from the definition in the step's registry view). With
`partition_keys`, inputs stay as given (a FileDataset must be direct, as in the SDK) and each
must be partitioned by every key.
"""
from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Any

from runner.sdk.data import (DatasetConsumptionConfig, FileDataset, OutputDatasetInput,
                             OutputFileDatasetConfig)
from runner.sdk.pipeline_data import PipelineData, PipelineParameter
from runner.sdk.runconfig import RunConfiguration
from runner.sdk.steps.base import BuildContext
from runner.sdk.steps.parallel_run_config import ParallelRunConfig
from runner.sdk.steps.script_steps import _PythonScriptStepBase, compute_target_name
from runner.spec import ParallelSpec, RunConfigSpec, StepSpec, Token
from runner.step_runtime.parallel_partitions import not_partitioned
from runner.step_runtime.parallel_tabular import DEFAULT_TABULAR_SIZE

DEFAULT_MINI_BATCH_SIZE_FILEDATASET = 10
DEFAULT_MINI_BATCH_SIZE_TABULARDATASET = DEFAULT_TABULAR_SIZE
RESERVED_ARGUMENTS = ("mini_batch_size", "error_threshold", "allowed_failed_count",
                      "allowed_failed_percent", "output", "output_action", "logging_level",
                      "process_count_per_node", "run_invocation_timeout", "run_max_try",
                      "append_row_file_name", "partition_keys")
ALLOWED_INPUT_TYPES = ("DatasetConsumptionConfig (of a FileDataset or a TabularDataset), "
                       "OutputFileDatasetConfig")


def _dataset_of(obj: DatasetConsumptionConfig) -> Any:
    dataset = obj.dataset
    return dataset.default_value if isinstance(dataset, PipelineParameter) else dataset


def _input_type(obj: Any, keyed: bool = False) -> str:
    """"file" or "tabular" (the SDK's input types), with the SDK's checks of the
    consumption mode; anything else is the SDK's message."""
    if isinstance(obj, DatasetConsumptionConfig):
        dataset = _dataset_of(obj)
        if getattr(dataset, "_KIND", None) == "tabular":
            if obj.mode != "direct":
                raise Exception("Please ensure input dataset consumption mode is direct")
            return "tabular"
        if isinstance(dataset, FileDataset):
            if keyed and obj.mode != "direct":
                raise Exception("Please ensure input dataset consumption mode is direct for "
                                "partitioned dataset")
            return "file"
        raise Exception(f"Step input must be of any type: {ALLOWED_INPUT_TYPES}, found "
                        f"{type(dataset)}")
    if isinstance(obj, (OutputDatasetInput, OutputFileDatasetConfig)):
        return "file"
    raise Exception(f"Step input must be of any type: {ALLOWED_INPUT_TYPES}, found {type(obj)}")


def _check_partitioned(inputs: list, keys: Any) -> None:
    """With literal partition_keys, every input is a dataset partitioned by all of them."""
    if not isinstance(keys, list):
        return  # a PipelineParameter: the driver checks the submitted value
    for obj in inputs:
        dataset = _dataset_of(obj) if isinstance(obj, DatasetConsumptionConfig) else None
        name = obj.name if isinstance(obj, DatasetConsumptionConfig) else \
            getattr(obj, "name", None) or type(obj).__name__
        have = list(getattr(dataset, "partition_keys", None) or [])
        if any(k not in have for k in keys):
            raise ValueError(not_partitioned(name, keys, have))


def _as_mount(obj: Any) -> Any:
    """A FileDataset input as the driver reads it: mounted (Azure mounts FileDataset inputs);
    a TabularDataset input stays direct."""
    if isinstance(obj, DatasetConsumptionConfig) and obj.mode != "mount" and \
            getattr(_dataset_of(obj), "_KIND", None) != "tabular":
        return obj.as_mount(obj.path_on_compute)
    if isinstance(obj, OutputFileDatasetConfig):
        return obj.as_input(obj.name)
    return obj


def _token(value: Any) -> Token:
    if isinstance(value, PipelineParameter):
        return Token("parameter", value.name)
    return Token("literal", str(value))


class ParallelRunStep(_PythonScriptStepBase):
    """Run `parallel_run_config.entry_script` over the mini-batches of `inputs`, its
    `append_row` results gathered into `output`."""

    def __init__(self, name: str, parallel_run_config: ParallelRunConfig, inputs: list,
                 output: Any = None, side_inputs: list | None = None,
                 arguments: list | None = None, allow_reuse: bool = True) -> None:
        if not isinstance(parallel_run_config, ParallelRunConfig):
            raise Exception("Param parallel_run_config must be a "
                            "azureml.pipeline.steps.ParallelRunConfig")
        config = parallel_run_config
        self._parallel_run_config = config
        arguments = list(arguments or [])
        _check_arguments(arguments)
        if not isinstance(inputs, list) or not inputs:
            raise AssertionError("The parameter 'inputs' must be a list and have at least one "
                                 "element or rank_mini_batch_count must be greater than zero.")
        keyed = bool(config.partition_keys)
        input_types = [_input_type(i, keyed) for i in inputs]
        if len(set(input_types)) > 1:
            raise Exception("All inputs of step must be same type")
        self._input_type = input_types[0]
        if keyed:
            _check_partitioned(inputs, config.partition_keys)
        if config.output_action.lower() != "summary_only" and output is None:
            raise Exception("Please specify output parameter.")
        if output is not None and not isinstance(output, (PipelineData, OutputFileDatasetConfig)):
            raise ValueError("output must be a PipelineData or an OutputFileDatasetConfig, not "
                             f"{type(output).__name__}")
        _check_source(config)
        primary = [i.as_input(i.name) if isinstance(i, OutputFileDatasetConfig) else i
                   for i in inputs] if keyed else [_as_mount(i) for i in inputs]
        side = [_as_mount(i) if isinstance(i, (DatasetConsumptionConfig,
                                               OutputFileDatasetConfig)) else i
                for i in (side_inputs or [])]
        for index, arg in enumerate(arguments):  # a side input in arguments: its mounted form
            for before, after in zip(side_inputs or [], side):
                if arg is before:
                    arguments[index] = after
        self._primary_inputs = primary
        runconfig = RunConfiguration()
        runconfig.environment = config.environment
        runconfig.node_count = config.node_count.default_value \
            if isinstance(config.node_count, PipelineParameter) else config.node_count
        runconfig.docker.use_docker = True
        super().__init__(config.entry_script, name, arguments, config.compute_target, runconfig,
                         None, primary + side, [output] if output is not None else [], None,
                         config.source_directory, allow_reuse, None)

    @property
    def running_on_windows(self) -> bool:
        """Whether the step runs on Windows compute: never locally (steps run on Linux)."""
        return False

    def create_module_def(self, execution_type: str, input_bindings: list,
                          output_bindings: list, param_defs: list | None = None,
                          create_sequencing_ports: bool = True, allow_reuse: bool = True,
                          version: str | None = None, arguments: list | None = None) -> dict:
        """The module definition of this step's node, of module type BatchInferencing (the
        SDK's signature, without `module_type`)."""
        return super().create_module_def(execution_type, input_bindings, output_bindings,
                                         param_defs, create_sequencing_ports, allow_reuse,
                                         version, module_type="BatchInferencing",
                                         arguments=arguments)

    def _runconfig_spec(self) -> RunConfigSpec:
        spec = super()._runconfig_spec()
        variables = {**spec.environment.environment_variables,
                     **{str(k): str(v) for k, v in
                        self._parallel_run_config.environment_variables.items()}}
        return replace(spec, environment=replace(spec.environment,
                                                 environment_variables=variables))

    def _parallel_spec(self, ctx: BuildContext) -> ParallelSpec:
        config = self._parallel_run_config
        for value in (config.mini_batch_size, config.node_count, config.process_count_per_node,
                      config.logging_level, config.run_invocation_timeout, config.run_max_try,
                      config.partition_keys):
            if isinstance(value, PipelineParameter):
                ctx.add_parameter(value)
        default = DEFAULT_MINI_BATCH_SIZE_TABULARDATASET if self._input_type == "tabular" \
            else DEFAULT_MINI_BATCH_SIZE_FILEDATASET
        size = default if config.mini_batch_size is None else config.mini_batch_size
        ports = [port for obj, port in zip(self._inputs, self._input_ports)
                 if any(obj is p for p in self._primary_inputs)]
        output = self._output_ports[0] if self._output_ports else None
        target = self._compute_target
        if isinstance(target, str) and target in ctx.workspace.compute_targets:
            target = ctx.workspace.compute_targets[target]
        keys = config.partition_keys
        return ParallelSpec(
            entry_script=config.entry_script, input_type=self._input_type, inputs=tuple(ports),
            mini_batch_size=_token(size), error_threshold=config.error_threshold,
            output_action=config.output_action.lower(), node_count=_token(config.node_count),
            process_count_per_node=None if config.process_count_per_node is None
            else _token(config.process_count_per_node),
            logging_level=_token(config.logging_level),
            run_invocation_timeout=_token(config.run_invocation_timeout),
            run_max_try=_token(config.run_max_try), output=output,
            append_row_file_name=config.append_row_file_name,
            allowed_failed_count=config.allowed_failed_count,
            allowed_failed_percent=None if config.allowed_failed_percent is None
            else float(config.allowed_failed_percent),
            partition_keys=None if keys is None else
            _token(keys) if isinstance(keys, PipelineParameter) else
            Token("literal", json.dumps(keys)),
            max_nodes=getattr(target, "max_nodes", None))

    def _compile(self, ctx: BuildContext) -> StepSpec:
        return self._compile_base(
            ctx, "parallel", script_name=self._script_name,
            source_directory=self.get_source_directory(ctx, self._source_directory, None)[0],
            compute_target=compute_target_name(self._compute_target, ctx.workspace, check=False),
            runconfig=self._runconfig_spec(), parallel=self._parallel_spec(ctx))


def _check_arguments(arguments: list) -> None:
    """Only keyword arguments, none of the driver's own names (the SDK's rule)."""
    if not arguments:
        return
    first = arguments[0]
    if not (isinstance(first, str) and first.startswith("-")):
        raise ValueError(f"Found invalid argument '{first}'. As your arguments will be merged "
                         "with reserved argument, you can only use keyword argument.")
    for item in arguments:
        if isinstance(item, str) and item.startswith("--"):
            name = item[2:].split("=")[0]
            if name in RESERVED_ARGUMENTS:
                raise ValueError(f"'{name}' is a reserved argument in ParallelRunStep, please "
                                 "use another argument name instead.")


def _check_source(config: ParallelRunConfig) -> None:
    """The source directory exists and holds the entry script (the SDK's messages)."""
    source_dir = config.source_directory
    if source_dir:
        if not os.path.exists(source_dir):
            raise ValueError(f"The value '{source_dir}' specified in source_directory doesn't "
                             "exist.")
        if not os.path.isdir(source_dir):
            raise ValueError(f"The value '{source_dir}' specified in source_directory is not a "
                             "directory.")
    entry_script = config.entry_script
    if entry_script and source_dir:
        full_path = os.path.join(source_dir, entry_script)
        if not os.path.exists(full_path):
            raise ValueError(f"The value '{entry_script}' specified in entry_script doesn't "
                             "exist.")
        if not os.path.isfile(full_path):
            raise ValueError(f"The value '{entry_script}' specified in entry_script is not a "
                             "file.")
