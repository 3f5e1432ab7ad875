"""`Estimator`: a training script with its environment, consumed by `EstimatorStep`."""
from __future__ import annotations

from typing import Any

from runner.sdk.conda_dependencies import CondaDependencies
from runner.sdk.environment import Environment
from runner.sdk.runconfig import RunConfiguration


class Estimator:
    """An entry script in a source directory plus the packages and image it needs."""

    def __init__(self, source_directory: str, compute_target: Any = None, vm_size: str | None = None,
                 vm_priority: str | None = None, entry_script: str | None = None,
                 script_params: dict | None = None, node_count: int = 1,
                 process_count_per_node: int = 1, distributed_backend: Any = None,
                 distributed_training: Any = None, use_gpu: bool = False, use_docker: bool = True,
                 custom_docker_base_image: str | None = None, custom_docker_image: str | None = None,
                 image_registry_details: Any = None, user_managed: bool = False,
                 conda_packages: list | None = None, pip_packages: list | None = None,
                 conda_dependencies_file_path: str | None = None,
                 pip_requirements_file_path: str | None = None,
                 conda_dependencies_file: str | None = None, pip_requirements_file: str | None = None,
                 environment_variables: dict | None = None,
                 environment_definition: Environment | None = None, inputs: list | None = None,
                 source_directory_data_store: Any = None, shm_size: str | None = None,
                 resume_from: Any = None, max_run_duration_seconds: int | None = None) -> None:
        self.source_directory = source_directory
        self.entry_script = entry_script
        self.script_params = dict(script_params or {})
        self.inputs = list(inputs or [])
        self.compute_target = compute_target
        self.node_count = node_count
        self.process_count_per_node = process_count_per_node
        self.use_gpu = use_gpu
        self.run_config = RunConfiguration()
        if compute_target is not None:
            self.run_config.target = compute_target if isinstance(compute_target, str) else compute_target.name
        self.run_config.max_run_duration_seconds = max_run_duration_seconds
        if environment_definition is not None:
            self.run_config.environment = environment_definition
        else:
            env = self.run_config.environment
            deps_file = conda_dependencies_file_path or conda_dependencies_file
            env.python.conda_dependencies = CondaDependencies(deps_file) if deps_file else CondaDependencies()
            for pkg in conda_packages or []:
                env.python.conda_dependencies.add_conda_package(pkg)
            for pkg in pip_packages or []:
                env.python.conda_dependencies.add_pip_package(pkg)
            requirements = pip_requirements_file_path or pip_requirements_file
            if requirements:
                for line in open(requirements).read().splitlines():
                    if line.split("#", 1)[0].strip():
                        env.python.conda_dependencies.add_pip_package(line.split("#", 1)[0].strip())
            env.python.user_managed_dependencies = user_managed
            image = custom_docker_image or custom_docker_base_image
            if image:
                env.docker.base_image = image
            env.environment_variables = dict(environment_variables or {})
