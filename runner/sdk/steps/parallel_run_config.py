"""`ParallelRunConfig`: how a ParallelRunStep splits its input and runs its entry script.

The parameters, defaults and build-time checks (with their messages) are the SDK's
(azureml-pipeline-core `_ParallelRunConfigBase`); `save_to_yaml`/`load_yaml` write and read
the SDK's `parallel_run_config:` document, with the environment as amlocal records it (a
`environment_name` or `environment_dir_path` entry, as older SDK files have, works too).
"""
from __future__ import annotations

import json
import re
from json import JSONDecodeError
from typing import Any

import yaml

from runner.sdk.environment import Environment
from runner.sdk.pipeline_data import PipelineParameter
from runner.step_runtime.parallel_tabular import mini_batch_size_to_int

__all__ = ["ParallelRunConfig", "mini_batch_size_to_int"]

OUTPUT_ACTIONS = ("summary_only", "append_row")
_BAD_FILE_NAME = re.compile(r'[~"#%&*:<>?\/\\{|}]+')


def _default(value: Any) -> Any:
    """A PipelineParameter's default value, or `value` itself."""
    return value.default_value if isinstance(value, PipelineParameter) else value


class ParallelRunConfig:
    """Configuration of a ParallelRunStep: entry script, environment, mini-batch size,
    workers (node_count × process_count_per_node), error thresholds, retries and output."""

    def __init__(self, environment: Any, entry_script: str, error_threshold: int,
                 output_action: str, compute_target: Any, node_count: Any,
                 process_count_per_node: Any = None, mini_batch_size: Any = None,
                 source_directory: str | None = None, description: str | None = None,
                 logging_level: Any = "INFO", run_invocation_timeout: Any = 60,
                 run_max_try: Any = 3, append_row_file_name: str | None = None,
                 allowed_failed_count: int | None = None,
                 allowed_failed_percent: float | None = None, partition_keys: Any = None,
                 environment_variables: dict | None = None) -> None:
        self.mini_batch_size = mini_batch_size
        self.error_threshold = error_threshold
        self.allowed_failed_count = allowed_failed_count
        self.allowed_failed_percent = allowed_failed_percent
        self.output_action = output_action
        self.logging_level = "INFO" if logging_level is None else logging_level
        self.compute_target = compute_target
        self.node_count = node_count
        self.process_count_per_node = process_count_per_node
        self.entry_script = entry_script if entry_script is None else entry_script.strip()
        self.source_directory = source_directory if source_directory is None \
            else source_directory.strip()
        self.description = description
        self.environment = environment
        self.run_invocation_timeout = 60 if run_invocation_timeout is None else run_invocation_timeout
        self.run_max_try = 3 if run_max_try is None else run_max_try
        self.append_row_file_name = append_row_file_name
        self.partition_keys = partition_keys
        self.environment_variables = {} if environment_variables is None else environment_variables
        self._validate()

    # ------------------------------------------------------------------ checks
    def _validate(self) -> None:
        """The SDK's checks, in its order and with its messages."""
        if self.environment is None:
            raise ValueError("Parameter environment is required. It should be instance of "
                             "azureml.core.Environment.")
        if not isinstance(self.environment, Environment):
            raise ValueError("Parameter environment must be an instance of azureml.core."
                             f"Environment. The actual value is {self.environment}.")
        if not isinstance(self.output_action, str) or \
                self.output_action.lower() not in OUTPUT_ACTIONS:
            raise ValueError("Parameter output_action must be summary_only or append_row.")
        if not _is_int(self.error_threshold) or self.error_threshold < -1:
            raise ValueError(f"error_threshold '{self.error_threshold}' is not an int value "
                             "greater than or equal to -1.")
        if self.allowed_failed_count is not None and (
                not _is_int(self.allowed_failed_count) or self.allowed_failed_count < -1):
            raise ValueError(f"allowed_failed_count '{self.allowed_failed_count}' is not an int "
                             "value greater than or equal to -1.")
        if self.allowed_failed_percent is not None:
            if isinstance(self.allowed_failed_percent, bool) or \
                    not isinstance(self.allowed_failed_percent, (int, float)):
                raise ValueError(f"allowed_failed_percent '{self.allowed_failed_percent}' is not "
                                 "an int or float.")
            if not 0 <= self.allowed_failed_percent <= 100:
                raise ValueError(f"allowed_failed_percent '{self.allowed_failed_percent}' is not "
                                 "between 0 and 100.")
        if self.mini_batch_size is not None and self.partition_keys is not None:
            raise ValueError("Parameters mini_batch_size and partition_keys are mutually "
                             "exclusive, because they specify different ways to partition the "
                             "input datasets into mini-batches.")
        if self.mini_batch_size is not None and not isinstance(self.mini_batch_size,
                                                               PipelineParameter):
            if isinstance(self.mini_batch_size, bool) or \
                    not isinstance(self.mini_batch_size, (int, str)):
                raise ValueError("Parameter mini_batch_size must be of type int or str.")
            if isinstance(self.mini_batch_size, str):
                self.mini_batch_size = mini_batch_size_to_int(self.mini_batch_size)
        self._validate_partition_keys()
        count = self.process_count_per_node
        if count is not None and not isinstance(count, PipelineParameter) and \
                (not _is_int(count) or count < 1):
            raise ValueError("Parameter process_count_per_node must be an integer greater than 0.")
        max_nodes = getattr(self.compute_target, "max_nodes", None)
        if max_nodes is not None and not isinstance(self.node_count, PipelineParameter) and \
                (self.node_count > max_nodes or self.node_count <= 0):
            raise ValueError(f"node_count '{self.node_count}' is not between 1 and max_nodes "
                             f"{max_nodes}.")
        for name in ("run_invocation_timeout", "run_max_try"):
            value = getattr(self, name)
            if not isinstance(value, PipelineParameter) and (not _is_int(value) or value <= 0):
                raise ValueError(f"Parameter {name} must be an integer greater than 0.")
        if self.output_action.lower() == "append_row" and self.append_row_file_name is not None \
                and _BAD_FILE_NAME.search(self.append_row_file_name):
            raise ValueError("Parameter append_row_file_name must be a valid UNIX file name.")

    def _validate_partition_keys(self) -> None:
        keys = self.partition_keys
        if keys is None:
            return
        if not isinstance(keys, PipelineParameter):
            if not isinstance(keys, list):
                raise ValueError("Parameter partition_keys must be of type list.")
            for key in keys:
                if not isinstance(key, str):
                    raise ValueError(f"Element {key} in partition_keys is not a str.")
            return
        try:
            loaded = json.loads(keys.default_value)
        except (JSONDecodeError, TypeError):
            raise ValueError("default_value of PipelineParameter partition_keys must be json dump "
                             "result of a list of str, try json.loads the value to validate.")
        if not isinstance(loaded, list):
            raise ValueError("default_value of PipelineParameter partition_keys must be json dump "
                             "result of a list of str.")
        for key in loaded:
            if not isinstance(key, str):
                raise ValueError(f"Element {key} in default_value of PipelineParameter "
                                 "partition_keys is not a str.")

    # ------------------------------------------------------------------ YAML
    def save_to_yaml(self, path: str) -> None:
        """Write this configuration to the YAML file `path` (`parallel_run_config:`)."""
        target = self.compute_target
        partition_keys = self.partition_keys
        if isinstance(partition_keys, PipelineParameter):
            partition_keys = json.loads(partition_keys.default_value)
        config = {
            "mini_batch_size": _default(self.mini_batch_size),
            "partition_keys": partition_keys,
            "error_threshold": self.error_threshold,
            "output_action": self.output_action,
            "logging_level": _default(self.logging_level),
            "compute_target_name": target if isinstance(target, str) or target is None
            else target.name,
            "node_count": _default(self.node_count),
            "process_count_per_node": _default(self.process_count_per_node),
            "entry_script": self.entry_script,
            "source_directory": self.source_directory,
            "description": self.description,
            "run_invocation_timeout": _default(self.run_invocation_timeout),
            "run_max_try": _default(self.run_max_try),
            "append_row_file_name": self.append_row_file_name,
            "allowed_failed_count": self.allowed_failed_count,
            "allowed_failed_percent": self.allowed_failed_percent,
            "environment": self.environment._to_spec().to_json(),
            "environment_variables": dict(self.environment_variables),
        }
        with open(path, "w") as fh:
            yaml.safe_dump({"parallel_run_config": config}, fh, sort_keys=False)

    @staticmethod
    def load_yaml(workspace: Any, path: str) -> "ParallelRunConfig":
        """The configuration in the YAML file `path`, its compute target looked up in
        `workspace` (an unknown target is the SDK's ComputeTargetException)."""
        with open(path) as fh:
            document = yaml.safe_load(fh) or {}
        if not isinstance(document, dict) or not isinstance(
                document.get("parallel_run_config"), dict):
            raise ValueError(f"{path}: a ParallelRunConfig YAML file holds a "
                             "'parallel_run_config:' mapping")
        config = document["parallel_run_config"]
        from runner.sdk.compute import ComputeTarget
        name = config.get("compute_target_name")
        target = ComputeTarget(workspace, name) if name and name != "local" else name
        size = config.get("mini_batch_size")
        return ParallelRunConfig(
            environment=_load_environment(config, workspace),
            entry_script=config.get("entry_script"),
            error_threshold=config.get("error_threshold"),
            output_action=config.get("output_action"), compute_target=target,
            node_count=config.get("node_count"),
            process_count_per_node=config.get("process_count_per_node"),
            mini_batch_size=None if size is None else str(size),
            source_directory=config.get("source_directory"),
            description=config.get("description"), logging_level=config.get("logging_level"),
            run_invocation_timeout=config.get("run_invocation_timeout"),
            run_max_try=config.get("run_max_try"),
            append_row_file_name=config.get("append_row_file_name"),
            allowed_failed_count=config.get("allowed_failed_count"),
            allowed_failed_percent=config.get("allowed_failed_percent"),
            partition_keys=config.get("partition_keys"),
            environment_variables=config.get("environment_variables"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _load_environment(config: dict, workspace: Any) -> Environment:
    environment = config.get("environment")
    if environment is None:
        if "environment_dir_path" in config:
            return Environment.load_from_directory(config["environment_dir_path"])
        if "environment_name" in config:
            return Environment.get(workspace, name=config["environment_name"])
        raise ValueError("Parameter error: an environment must be provided")
    if isinstance(environment, str):
        with open(environment) as fh:
            environment = yaml.safe_load(fh)
    if not isinstance(environment, dict):
        raise ValueError("Parameter error: the environment entry must be a mapping or a file")
    return Environment._from_spec(environment)
