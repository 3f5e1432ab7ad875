"""`RunConfiguration`: how a step runs (target, environment, node count, time limit, Docker
runtime settings, distributed-training shape), and saving it to a project's `.azureml/`.

What reaches the step: the environment (image and packages), `environment_variables`,
`max_run_duration_seconds`, the compute target, and `docker` (`DockerConfiguration`) arguments
and shared-memory size, merged after the environment's own docker settings. `node_count` and the
`mpi` / `pytorch` / `tensorflow` configurations are recorded with the step.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from runner.sdk.conda_dependencies import CondaDependencies
from runner.sdk.environment import Environment
from runner.sdk.runconfig_sections import (DEFAULT_SHM_SIZE, DockerConfiguration, MpiConfiguration,
                                           PyTorchConfiguration, TensorflowConfiguration)
from runner.spec import RunConfigSpec
from runner.step_runtime.exceptions import UserErrorException

log = logging.getLogger("azureml.core.runconfig")
RUNCONFIG_EXTENSION = ".runconfig"
_FRAMEWORK_SECTIONS = {"Python": None, "PySpark": None, "TensorFlow": "tensorflow",
                       "PyTorch": "pytorch"}


class RunConfiguration:
    """How a step runs: its target, environment, node count and time limit."""

    def __init__(self, script: str | None = None, arguments: list | None = None,
                 framework: str | None = None, communicator: str | None = None,
                 conda_dependencies: CondaDependencies | None = None, _history_enabled: Any = None,
                 _path: Any = None, _name: Any = None, command: Any = None) -> None:
        self.script = script
        self.arguments = list(arguments or [])
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.command = command
        self.target: Any = "local"
        self.node_count = 1
        self.priority: int | None = None
        self.max_run_duration_seconds: int | None = None
        self.environment = Environment("default-environment")
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self.docker = DockerConfiguration()
        self.mpi = MpiConfiguration()
        self.pytorch = PyTorchConfiguration()
        self.tensorflow = TensorflowConfiguration()
        self.data_references: dict[str, Any] = {}
        self.data: dict[str, Any] = {}
        self.output_data: dict[str, Any] = {}
        self.source_directory_data_store: str | None = None
        self.credential_passthrough = False
        self._name = _name
        self._path = _path

    @property
    def environment_variables(self) -> dict[str, str]:
        return self.environment.environment_variables

    @environment_variables.setter
    def environment_variables(self, value: dict[str, str]) -> None:
        self.environment.environment_variables = dict(value)

    @property
    def auto_prepare_environment(self) -> bool:
        """Deprecated and unused in the SDK (it warns and answers True)."""
        log.warning("'auto_prepare_environment' is deprecated and unused. It will be removed in a "
                    "future release.")
        return True

    @auto_prepare_environment.setter
    def auto_prepare_environment(self, _value: bool) -> None:
        log.warning("'auto_prepare_environment' is deprecated and unused. It will be removed in a "
                    "future release.")

    def _distributed(self) -> dict[str, Any] | None:
        """The distributed-training shape the communicator/framework select, if any."""
        if self.communicator in ("IntelMpi", "OpenMpi", "Mpi"):
            return self.mpi._to_spec()
        section = _FRAMEWORK_SECTIONS.get(self.framework)
        if section is not None and self.communicator != "None":
            return getattr(self, section)._to_spec()
        return None

    def _to_spec(self) -> RunConfigSpec:
        """This run configuration as the PipelineSpec records it (its DockerConfiguration's
        arguments and shm size folded into the environment's)."""
        target = self.target if isinstance(self.target, str) else getattr(self.target, "name", "local")
        environment = self.environment._to_spec()
        environment = replace(environment, docker_arguments=(
            *environment.docker_arguments, *(str(a) for a in self.docker.arguments)))
        if self.docker.shm_size and self.docker.shm_size != DEFAULT_SHM_SIZE:
            environment = replace(environment, shm_size=self.docker.shm_size)
        return RunConfigSpec(target, self.node_count, self.max_run_duration_seconds, environment,
                             use_docker=bool(self.docker.use_docker), framework=self.framework,
                             communicator=self.communicator, distributed=self._distributed())

    # ----------------------------------------------------------------- files
    @staticmethod
    def _file(path: str | None, name: str | None) -> Path:
        folder = Path(path or os.getcwd())
        if not folder.is_dir():
            return folder
        if not name:
            raise UserErrorException("Cannot save a runconfig without a name specified")
        if not name.endswith(RUNCONFIG_EXTENSION):
            name += RUNCONFIG_EXTENSION
        return folder / ".azureml" / name

    def save(self, path: str | None = None, name: str | None = None,
             separate_environment_yaml: bool = False) -> None:
        """Write this configuration to `<path>/.azureml/<name>.runconfig` (or to the file `path`),
        its conda dependencies beside it, as the SDK does; `load` reads it back."""
        target = self._file(path or self._path, name or self._name)
        if not target.parent.is_dir() and target.parent.name != ".azureml":
            raise UserErrorException(f"{path} argument is invalid")
        target.parent.mkdir(parents=True, exist_ok=True)
        conda_file = "environment.yml" if separate_environment_yaml else "conda_dependencies.yml"
        self.environment.python.conda_dependencies.save(str(target.parent / conda_file))
        data = {"script": self.script, "command": self.command, "arguments": [str(a) for a in self.arguments],
                "framework": self.framework, "communicator": self.communicator,
                "target": self._to_spec().target, "nodeCount": self.node_count,
                "maxRunDurationSeconds": self.max_run_duration_seconds,
                "environment": {**self.environment._to_spec().to_json(),
                                "condaDependenciesFile": conda_file},
                "docker": self.docker._to_spec(),
                "mpi": self.mpi._to_spec(), "pytorch": self.pytorch._to_spec(),
                "tensorflow": self.tensorflow._to_spec()}
        target.write_text(json.dumps(data, indent=2) + "\n")

    @staticmethod
    def load(path: str, name: str | None = None) -> "RunConfiguration":
        """The configuration `save` wrote (`path` a file, or a project folder and `name`)."""
        target = RunConfiguration._file(path, name) if name or not os.path.isfile(path) else Path(path)
        if not target.is_file():
            raise UserErrorException(f"Failed to load RunConfiguration from path={path} name={name}")
        data = json.loads(target.read_text())
        config = RunConfiguration(script=data.get("script"), arguments=data.get("arguments"),
                                  framework=data.get("framework"), communicator=data.get("communicator"),
                                  command=data.get("command"), _path=path, _name=name)
        config.target = data.get("target") or "local"
        config.node_count = data.get("nodeCount", 1)
        config.max_run_duration_seconds = data.get("maxRunDurationSeconds")
        environment = data.get("environment") or {}
        config.environment = Environment._from_spec(environment)
        conda_file = target.parent / (environment.get("condaDependenciesFile") or "")
        if conda_file.is_file():
            config.environment.python.conda_dependencies = CondaDependencies(str(conda_file))
        docker = data.get("docker") or {}
        config.docker = DockerConfiguration(docker.get("use_docker", False),
                                            docker.get("shared_volumes", True),
                                            docker.get("arguments", []),
                                            docker.get("shm_size", DEFAULT_SHM_SIZE))
        mpi = data.get("mpi") or {}
        config.mpi = MpiConfiguration(mpi.get("process_count_per_node", 1), mpi.get("node_count", 1))
        return config

    @staticmethod
    def delete(path: str, name: str) -> None:
        """Remove the configuration `name` saved in the project folder `path`."""
        target = RunConfiguration._file(path, name)
        if not target.is_file():
            raise UserErrorException(f"Run configuration {name} not found in {path}")
        target.unlink()
