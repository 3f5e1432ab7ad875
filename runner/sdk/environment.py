"""`Environment`: the software a step runs with, recorded with each step for the executors.

The Docker executor builds one image per distinct environment (base image plus pip packages);
`base_dockerfile` (from `from_dockerfile`) is recorded and refused by the Docker executor with a
clear message; the Python version is recorded. Curated Azure environments (`AzureML-…`) and
Azure's GPU images exist only in Azure, and say so when used.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from runner.spec import EnvironmentSpec
from runner.sdk.conda_dependencies import DEFAULT_PYTHON_VERSION, CondaDependencies
from runner.sdk.environment_files import (environment_from_spec, load_environment_directory,
                                          save_environment_directory)
from runner.step_runtime.exceptions import UserErrorException

__all__ = ["CondaDependencies", "DEFAULT_CPU_IMAGE", "DEFAULT_GPU_IMAGE", "DockerSection",
           "Environment", "PythonSection", "PYTHON_DEFAULT_VERSION"]

DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1"
DEFAULT_GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04"
PYTHON_DEFAULT_VERSION = DEFAULT_PYTHON_VERSION
DEFAULT_SHM_SIZE = "2g"
_AZURE_IMAGES = "mcr.microsoft.com/azureml/"
from runner.sdk.environment_registry import CURATED_PREFIX  # noqa: E402  (kept where it was)


def is_azure_gpu_image(image: str | None) -> bool:
    """Whether `image` is one of Azure ML's GPU (CUDA) base images."""
    return bool(image) and image.startswith(_AZURE_IMAGES) and ("cuda" in image or "gpu" in image)


def is_azure_cpu_image(image: str | None) -> bool:
    """Whether `image` is one of Azure ML's CPU base images, which stand for amlocal's own."""
    return bool(image) and image.startswith(_AZURE_IMAGES) and not is_azure_gpu_image(image)


def refuse_cloud_only_image(step_name: str, environment: "Environment") -> None:
    """Raise, when the Pipeline is built, for an environment whose image exists only for Azure
    GPU clusters (amlocal runs steps without GPUs)."""
    image = environment.docker.base_image
    if is_azure_gpu_image(image):
        raise UserErrorException(
            f"Step [{step_name}]: environment {environment.name} uses Azure's GPU image {image}; "
            "amlocal runs steps without GPUs: use DEFAULT_CPU_IMAGE (or an image of your own) "
            "with the CPU build of your framework")


class PythonSection:
    """The Python side of an environment: its packages, or an interpreter the user manages."""

    def __init__(self, **kwargs: Any) -> None:
        self.interpreter_path = "python"
        self.user_managed_dependencies = False
        self.conda_dependencies = CondaDependencies()
        self._conda_dependencies_file: str | None = None

    @property
    def conda_dependencies_file(self) -> str | None:
        """A conda file to read the packages from (relative to the source directory)."""
        return self._conda_dependencies_file

    @conda_dependencies_file.setter
    def conda_dependencies_file(self, value: str | None) -> None:
        self._conda_dependencies_file = value
        if value and os.path.isfile(value):
            self.conda_dependencies = CondaDependencies(value)


class DockerSection:
    """The image side: a base image or a Dockerfile (one excludes the other), and run options."""

    def __init__(self, **kwargs: Any) -> None:
        self.enabled = False
        self.shm_size: str | None = DEFAULT_SHM_SIZE
        self.shared_volumes = True
        self.arguments: list[str] = []
        self._base_image: str | None = DEFAULT_CPU_IMAGE
        self._base_dockerfile: str | None = None
        self._build_context: Any = None

    @property
    def base_image(self) -> str | None:
        return self._base_image

    @base_image.setter
    def base_image(self, value: str | None) -> None:
        self._base_image = value or None
        if value:
            self._base_dockerfile = self._build_context = None

    @property
    def base_dockerfile(self) -> str | None:
        """The Dockerfile's text (set it to a path, a file object or the text itself)."""
        return self._base_dockerfile

    @base_dockerfile.setter
    def base_dockerfile(self, value: Any) -> None:
        if hasattr(value, "read"):
            value = value.read()
        elif value and os.path.isfile(value):
            with open(value) as fh:
                value = fh.read()
        self._base_dockerfile = value or None
        if value:
            self._base_image = self._build_context = None

    @property
    def build_context(self) -> Any:
        return self._build_context

    @property
    def gpu_support(self) -> bool:
        """Deprecated in the SDK (GPUs are detected); always False here: no GPUs are used."""
        return False


class Environment:
    """The software a step runs with: base image, Python packages, environment variables."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Environment name expected str, {type(name).__name__} found")
        self.name = name
        self.version: str | None = None
        self.asset_id: str | None = None  # the registered version's id (set by the registry)
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}
        self._framework: dict | None = None  # a framework estimator's name, version and pins

    # ----------------------------------------------------------------- constructors
    @staticmethod
    def from_pip_requirements(name: str, file_path: str, pip_version: str | None = None) -> "Environment":
        """An environment with the packages of a pip requirements file (and pip itself)."""
        env = Environment(name)
        with open(file_path) as fh:
            env.python.conda_dependencies.set_pip_requirements(fh.read().splitlines())
        env.python.conda_dependencies.add_conda_package(f"pip={pip_version}" if pip_version else "pip")
        return env

    @staticmethod
    def from_conda_specification(name: str, file_path: str) -> "Environment":
        """An environment with the channels, packages and Python version of a conda file."""
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @staticmethod
    def _from_dependencies(name: str, conda_specification: str | None,
                           pip_requirements: str | None) -> "Environment":
        """As the SDK: one kind of Python dependencies, or the image's own Python."""
        if conda_specification and pip_requirements:
            raise UserErrorException("Only one of conda_specification or pip_requirements can be "
                                     "specified as python dependencies")
        if conda_specification:
            return Environment.from_conda_specification(name, conda_specification)
        if pip_requirements:
            return Environment.from_pip_requirements(name, pip_requirements)
        env = Environment(name)
        env.python.user_managed_dependencies = True
        return env

    @staticmethod
    def from_docker_image(name: str, image: str, container_registry: Any = None,
                          conda_specification: str | None = None,
                          pip_requirements: str | None = None) -> "Environment":
        """An environment on `image`; without Python dependencies the image's Python is used."""
        env = Environment._from_dependencies(name, conda_specification, pip_requirements)
        env.docker.base_image = image
        return env

    def build(self, workspace: Any, image_build_compute: str | None = None) -> Any:
        """Build this environment's image now (where steps run in Docker); see
        `runner.sdk.environment_build`. Returns an `ImageBuildDetails`."""
        from runner.sdk.environment_build import build_environment
        return build_environment(self, workspace)

    @staticmethod
    def from_dockerfile(name: str, dockerfile: str, conda_specification: str | None = None,
                        pip_requirements: str | None = None) -> "Environment":
        """An environment built from a Dockerfile (its text or its path), recorded with the step.

        The Docker executor does not build Dockerfiles yet and says so when the step starts;
        build the image yourself and use `from_docker_image` with its tag.
        """
        env = Environment._from_dependencies(name, conda_specification, pip_requirements)
        env.docker.base_dockerfile = dockerfile
        return env

    @staticmethod
    def from_existing_conda_environment(name: str, conda_environment_name: str) -> "Environment | None":
        """An environment with the packages of a local conda environment (`conda env export`);
        None, with the SDK's message, when conda or that environment is not there."""
        try:
            exported = subprocess.run(["conda", "env", "export", "--no-builds", "--name",
                                       conda_environment_name], capture_output=True, text=True)
        except OSError:
            print("Unable to run Conda package manager. Please make sure Conda (>= 4.4.0) is installed.")
            return None
        if exported.returncode != 0:
            print(f"Exporting conda specifications failed with exit code: {exported.returncode}")
            return None
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as spec:
            spec.write(exported.stdout)
        try:
            return Environment.from_conda_specification(name, spec.name)
        finally:
            os.unlink(spec.name)

    def build_local(self, workspace: Any, platform: Any = None, **kwargs: Any) -> None:
        """Build (or find) this environment's image with the local Docker engine, as the Docker
        executor will use it for a step, printing the build log."""
        from runner.engine.executor_choice import choose_executor
        from runner.executors.docker import DockerExecutor
        from runner.executors.docker_engine import engine_answers
        answers, why = engine_answers()
        if not answers:
            raise UserErrorException(f"Environment.build_local needs a Docker engine: {why}")
        layout = workspace._local.layout
        executor = DockerExecutor(layout, base_image=choose_executor(layout).base_image)
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "build.log")
            resolved = executor.resolve_environment(self._to_spec(), Path(log))
            print(Path(log).read_text(), end="")
        print(f"Image {resolved.image} for environment {self.name} is ready")

    def register(self, workspace: Any) -> "Environment":
        """Register this environment in `workspace` and return the registered one (its
        `version` "1", "2", …); an unchanged definition returns the version it already has."""
        from runner.sdk import environment_registry
        return environment_registry.register(self, workspace)

    @staticmethod
    def get(workspace: Any, name: str, version: str | None = None, label: str | None = None) -> "Environment":
        """A registered environment: the latest version, `version`, or the one labelled `label`.
        Curated `AzureML-…` environments exist only in Azure."""
        if label and version:
            raise UserErrorException("Only one of version or label can be specified")
        if name.startswith(CURATED_PREFIX):
            raise UserErrorException(
                f"Environment {name} is a curated Azure ML environment, which exists only in Azure: "
                "define it in the script instead, e.g. Environment.from_conda_specification("
                f"'{name}', 'environment.yml') or Environment.from_pip_requirements('{name}', "
                "'requirements.txt') with the packages it has")
        from runner.sdk import environment_registry
        return environment_registry.get(Environment, workspace, name, version, label)

    @staticmethod
    def list(workspace: Any) -> dict[str, "Environment"]:
        """Every environment registered in `workspace`, by name, at its latest version."""
        from runner.sdk import environment_registry
        return environment_registry.list_latest(Environment, workspace)

    @staticmethod
    def label(workspace: Any, name: str, version: str, labels: list[str]) -> None:
        """Label version `version` of environment `name` (`Environment.get(..., label=)`)."""
        from runner.sdk import environment_registry
        environment_registry.label(workspace, name, version, labels)

    @staticmethod
    def load_from_directory(path: str) -> "Environment":
        """An environment saved by `save_to_directory` (the SDK's files: azureml_environment.json,
        conda_dependencies.yml, BaseDockerfile)."""
        return load_environment_directory(Environment, path)

    def save_to_directory(self, path: str, overwrite: bool = False) -> None:
        """Write this environment as the SDK does, so `load_from_directory` (or Azure) reads it."""
        save_environment_directory(self, path, overwrite)

    def clone(self, new_name: str) -> "Environment":
        """A deep copy under another name, unregistered (no version), as the SDK's."""
        if not new_name:
            raise UserErrorException("Name is required to instantiate an Environment object")
        env = copy.deepcopy(self)
        env.name = new_name
        env.version = env.asset_id = None
        return env

    @staticmethod
    def _from_spec(spec: dict) -> "Environment":
        """The Environment a step spec's environment entry (its JSON) describes."""
        return environment_from_spec(Environment, spec, DEFAULT_CPU_IMAGE)

    def _to_spec(self) -> EnvironmentSpec:
        """This environment as the PipelineSpec records it (an Azure CPU image: None, which
        means the configured base image)."""
        deps = self.python.conda_dependencies
        base_image = self.docker.base_image
        return EnvironmentSpec(
            name=self.name, base_image=None if is_azure_cpu_image(base_image) else base_image,
            base_dockerfile=self.docker.base_dockerfile,
            docker_arguments=tuple(str(a) for a in self.docker.arguments),
            shm_size=self.docker.shm_size, python_version=deps.get_python_version(),
            pip_packages=tuple(deps.pip_packages), conda_packages=tuple(deps.conda_packages),
            pip_options=tuple(deps.pip_options), user_managed=self.python.user_managed_dependencies,
            environment_variables=dict(self.environment_variables),
            framework=dict(self._framework) if self._framework else None)

    def __repr__(self) -> str:
        return json.dumps(self._to_spec().to_json(), indent=2)
