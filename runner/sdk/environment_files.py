"""An Environment as files and as recorded data: the SDK's `save_to_directory` layout
(`azureml_environment.json`, `conda_dependencies.yml`, `BaseDockerfile`), and the environment
entry of a step spec read back into an Environment (`StepRun.get_environment()`)."""
from __future__ import annotations

import json
import os
from typing import Any

from runner.sdk.conda_dependencies import CondaDependencies

DEFINITION_FILE = "azureml_environment.json"
CONDA_FILE = "conda_dependencies.yml"
DOCKERFILE_FILE = "BaseDockerfile"


def _definition(env: Any) -> dict[str, Any]:
    """The SDK's JSON definition of `env` (the fields amlocal keeps, the others null)."""
    docker = env.docker
    return {"name": env.name, "version": env.version,
            "environmentVariables": dict(env.environment_variables),
            "python": {"userManagedDependencies": env.python.user_managed_dependencies,
                       "interpreterPath": env.python.interpreter_path,
                       "condaDependenciesFile": None, "baseCondaEnvironment": None},
            "docker": {"enabled": docker.enabled, "baseImage": docker.base_image,
                       "baseDockerfile": None, "buildContext": None,
                       "sharedVolumes": docker.shared_volumes, "shmSize": docker.shm_size,
                       "arguments": list(docker.arguments),
                       "baseImageRegistry": {"address": None, "username": None, "password": None,
                                             "registryIdentity": None}},
            "r": None, "inferencingStackVersion": None, "assetId": getattr(env, "asset_id", None)}


def save_environment_directory(env: Any, path: str, overwrite: bool) -> None:
    """Write `env` into the folder `path` (which may exist only with `overwrite`)."""
    os.makedirs(path, exist_ok=overwrite)
    env.python.conda_dependencies.save(os.path.join(path, CONDA_FILE))
    if env.docker.base_dockerfile:
        with open(os.path.join(path, DOCKERFILE_FILE), "w") as fh:
            fh.write(env.docker.base_dockerfile)
    with open(os.path.join(path, DEFINITION_FILE), "w") as fh:
        json.dump(_definition(env), fh, indent=4)


def load_environment_directory(environment_class: type, path: str) -> Any:
    """The environment in folder `path`, as written by the SDK's or amlocal's save."""
    definition_path = os.path.join(path, DEFINITION_FILE)
    if not os.path.isfile(definition_path):
        raise FileNotFoundError(definition_path)
    with open(definition_path) as fh:
        data = json.load(fh)
    env = environment_class(data.get("name"))
    env.version = data.get("version")
    env.asset_id = data.get("assetId")
    env.environment_variables = dict(data.get("environmentVariables") or {})
    python = data.get("python") or {}
    env.python.user_managed_dependencies = bool(python.get("userManagedDependencies", False))
    env.python.interpreter_path = python.get("interpreterPath") or "python"
    docker = data.get("docker") or {}
    env.docker.enabled = bool(docker.get("enabled", False))
    env.docker.base_image = docker.get("baseImage")
    env.docker.shared_volumes = bool(docker.get("sharedVolumes", True))
    env.docker.shm_size = docker.get("shmSize")
    env.docker.arguments = list(docker.get("arguments") or [])
    conda_path = os.path.join(path, CONDA_FILE)
    if os.path.isfile(conda_path):
        env.python.conda_dependencies = CondaDependencies(conda_path)
    dockerfile_path = os.path.join(path, DOCKERFILE_FILE)
    if os.path.isfile(dockerfile_path):
        with open(dockerfile_path) as fh:
            env.docker.base_dockerfile = fh.read()
    return env


def environment_from_spec(environment_class: type, spec: dict, default_image: str) -> Any:
    """The Environment a step spec's `environment` entry records (see `Environment._to_spec`)."""
    env = environment_class(spec.get("name"))
    env.docker.base_image = spec.get("base_image") or default_image
    if spec.get("base_dockerfile"):
        env.docker.base_dockerfile = spec["base_dockerfile"]
    env.docker.arguments = list(spec.get("docker_arguments") or [])
    env.docker.shm_size = spec.get("shm_size")
    deps = CondaDependencies()
    deps.set_python_version(spec.get("python_version") or deps.get_python_version())
    for package in spec.get("conda_packages") or []:
        deps.add_conda_package(package)
    deps.set_pip_requirements([*(spec.get("pip_options") or []), *(spec.get("pip_packages") or [])])
    env.python.conda_dependencies = deps
    env.python.user_managed_dependencies = bool(spec.get("user_managed"))
    env.environment_variables = dict(spec.get("environment_variables") or {})
    return env
