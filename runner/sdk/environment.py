"""Run configuration and environments, recorded with each step for the Docker executor."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.spec import EnvironmentSpec, RunConfigSpec

DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"
DEFAULT_PYTHON_VERSION = "3.10.18"


class CondaDependencies:
    """Conda and pip packages of an environment."""

    DEFAULT_NUMBER_OF_CONDA_PACKAGES = 0
    DEFAULT_NUMBER_OF_PIP_PACKAGES = 0

    def __init__(self, conda_dependencies_file_path: str | None = None, _underlying_structure: Any = None) -> None:
        self._python_version = DEFAULT_PYTHON_VERSION
        self._channels: list[str] = ["conda-forge"]
        self._conda: list[str] = []
        self._pip: list[str] = []
        self._pip_options: list[str] = []
        if conda_dependencies_file_path:
            self._read_conda_file(Path(conda_dependencies_file_path))

    def _read_conda_file(self, path: Path) -> None:
        """Read the `dependencies:` (and nested `- pip:`) lists of a conda YAML file."""
        section, in_pip = None, False
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            if not line.startswith((" ", "-")):
                section, in_pip = line.split(":", 1)[0].strip(), False
                continue
            item = line.strip()
            if not item.startswith("-"):
                continue
            value = item[1:].strip()
            indent = len(line) - len(line.lstrip())
            if section == "channels":
                if value not in self._channels:
                    self._channels.append(value)
            elif section == "dependencies":
                if value.rstrip(":") == "pip" and value.endswith(":"):
                    in_pip = True
                elif in_pip and indent > 2:
                    self._pip.append(value)
                else:
                    in_pip = False
                    if value.startswith("python=") or value.startswith("python "):
                        self._python_version = value.split("=", 1)[-1].strip()
                    else:
                        self._conda.append(value)

    @staticmethod
    def create(pip_indexurl: str | None = None, pip_packages: list[str] | None = None,
               conda_packages: list[str] | None = None, python_version: str = DEFAULT_PYTHON_VERSION,
               pin_sdk_version: bool = True) -> "CondaDependencies":
        deps = CondaDependencies()
        deps._python_version = python_version
        for p in pip_packages or []:
            deps.add_pip_package(p)
        for p in conda_packages or []:
            deps.add_conda_package(p)
        if pip_indexurl:
            deps.set_pip_index_url(pip_indexurl)
        return deps

    def add_pip_package(self, pip_package: str) -> None:
        if pip_package not in self._pip:
            self._pip.append(pip_package)

    def add_conda_package(self, conda_package: str) -> None:
        if conda_package not in self._conda:
            self._conda.append(conda_package)

    def add_channel(self, channel: str) -> None:
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_pip_package(self, pip_package: str) -> None:
        self._pip = [p for p in self._pip if p != pip_package]

    def remove_conda_package(self, conda_package: str) -> None:
        self._conda = [p for p in self._conda if p != conda_package]

    def remove_channel(self, channel: str) -> None:
        self._channels = [c for c in self._channels if c != channel]

    def set_pip_option(self, pip_option: str) -> None:
        if pip_option not in self._pip_options:
            self._pip_options.append(pip_option)

    def remove_pip_option(self, pip_option: str) -> None:
        self._pip_options = [o for o in self._pip_options if o != pip_option]

    def set_pip_index_url(self, index_url: str) -> None:
        self.set_pip_option(f"--index-url {index_url}")

    def set_python_version(self, version: str) -> None:
        self._python_version = version

    def get_python_version(self) -> str:
        return self._python_version

    @property
    def pip_packages(self) -> list[str]:
        return list(self._pip)

    @property
    def conda_packages(self) -> list[str]:
        return list(self._conda)

    @property
    def conda_channels(self) -> list[str]:
        return list(self._channels)

    @property
    def pip_options(self) -> list[str]:
        return list(self._pip_options)

    def as_dict(self) -> dict:
        deps: list[Any] = [f"python={self._python_version}", *self._conda]
        if self._pip or self._pip_options:
            deps.append({"pip": [*self._pip_options, *self._pip]})
        return {"name": "project_environment", "channels": list(self._channels), "dependencies": deps}

    def serialize_to_string(self) -> str:
        lines = ["name: project_environment", "channels:", *[f"  - {c}" for c in self._channels],
                 "dependencies:", f"  - python={self._python_version}", *[f"  - {c}" for c in self._conda]]
        if self._pip or self._pip_options:
            lines += ["  - pip:", *[f"    - {p}" for p in (*self._pip_options, *self._pip)]]
        return "\n".join(lines) + "\n"

    def save(self, path: str | None = None) -> str:
        target = path or "conda_dependencies.yml"
        Path(target).write_text(self.serialize_to_string())
        return target


class _PythonSection:
    def __init__(self) -> None:
        self.conda_dependencies = CondaDependencies()
        self.user_managed_dependencies = False
        self.interpreter_path = "python"


class _DockerSection:
    def __init__(self) -> None:
        self.enabled = False
        self.base_image: str | None = DEFAULT_CPU_IMAGE
        self.base_dockerfile: str | None = None
        self.shm_size = "2g"
        self.arguments: list[str] = []


class Environment:
    """The software a step runs with: base image, Python packages, environment variables."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = name
        self.version: str | None = None
        self.python = _PythonSection()
        self.docker = _DockerSection()
        self.environment_variables: dict[str, str] = {}
        self._framework: dict | None = None  # a framework estimator's name, version and pins

    @staticmethod
    def from_pip_requirements(name: str, file_path: str, pip_version: str | None = None) -> "Environment":
        env = Environment(name)
        for line in Path(file_path).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                env.python.conda_dependencies.add_pip_package(line)
        return env

    @staticmethod
    def from_conda_specification(name: str, file_path: str) -> "Environment":
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @staticmethod
    def from_docker_image(name: str, image: str, container_registry: Any = None,
                          conda_specification: str | None = None,
                          pip_requirements: str | None = None) -> "Environment":
        env = (Environment.from_pip_requirements(name, pip_requirements) if pip_requirements
               else Environment.from_conda_specification(name, conda_specification)
               if conda_specification else Environment(name))
        env.docker.base_image = image
        return env

    def build(self, workspace: Any, image_build_compute: str | None = None) -> Any:
        """Build this environment's image now (where steps run in Docker); see
        `runner.sdk.environment_build`. Returns an `ImageBuildDetails`."""
        from runner.sdk.environment_build import build_environment
        return build_environment(self, workspace)

    def clone(self, new_name: str) -> "Environment":
        import copy
        env = copy.deepcopy(self)
        env.name = new_name
        return env

    def _to_spec(self) -> EnvironmentSpec:
        """This environment as the PipelineSpec records it (Azure's default image: None)."""
        deps = self.python.conda_dependencies
        base_image = self.docker.base_image
        return EnvironmentSpec(
            name=self.name, base_image=None if base_image == DEFAULT_CPU_IMAGE else base_image,
            base_dockerfile=self.docker.base_dockerfile,
            docker_arguments=tuple(str(a) for a in self.docker.arguments),
            shm_size=self.docker.shm_size, python_version=deps.get_python_version(),
            pip_packages=tuple(deps.pip_packages), conda_packages=tuple(deps.conda_packages),
            pip_options=tuple(deps.pip_options), user_managed=self.python.user_managed_dependencies,
            environment_variables=dict(self.environment_variables),
            framework=dict(self._framework) if self._framework else None)

    def __repr__(self) -> str:
        return json.dumps(self._to_spec().to_json(), indent=2)


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
        self.target = "local"
        self.node_count = 1
        self.max_run_duration_seconds: int | None = None
        self.environment = Environment("default-environment")
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self._auto_prepare = False

    @property
    def environment_variables(self) -> dict[str, str]:
        return self.environment.environment_variables

    @environment_variables.setter
    def environment_variables(self, value: dict[str, str]) -> None:
        self.environment.environment_variables = dict(value)

    @property
    def auto_prepare_environment(self) -> bool:
        return self._auto_prepare

    @auto_prepare_environment.setter
    def auto_prepare_environment(self, value: bool) -> None:
        self._auto_prepare = value

    def _to_spec(self) -> RunConfigSpec:
        """This run configuration as the PipelineSpec records it."""
        target = self.target if isinstance(self.target, str) else getattr(self.target, "name", "local")
        return RunConfigSpec(target, self.node_count, self.max_run_duration_seconds,
                             self.environment._to_spec())
