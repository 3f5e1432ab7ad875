"""Sections of a `RunConfiguration`: the Docker runtime settings and the distributed-training
configurations (MPI, PyTorch, TensorFlow), with the SDK's constructors and checks.

`DockerConfiguration.arguments` and `shm_size` reach the step's container (they are merged
with the environment's own docker settings); the distributed configurations are recorded with
the step (`amlocal show` and the spec carry them) and run the script once, as `MpiStep` does.
"""
from __future__ import annotations

from typing import Any

from runner.step_runtime.exceptions import RunConfigurationException

DEFAULT_SHM_SIZE = "2g"
SUPPORTED_PYTORCH_BACKENDS = ["nccl", "gloo"]


class DockerConfiguration:
    """How the step's container is run: extra `docker run` arguments and shared-memory size.

    `use_docker` is recorded; whether steps run in Docker is the executor's choice
    (`amlocal config executor`), the same for every step of a run.
    """

    def __init__(self, use_docker: bool = False, shared_volumes: bool = True,
                 arguments: list[str] = [], shm_size: str = DEFAULT_SHM_SIZE) -> None:  # noqa: B006 - the SDK's default
        self.use_docker = use_docker
        self.shared_volumes = shared_volumes
        self.arguments = list(arguments)
        self.shm_size = shm_size

    def _to_spec(self) -> dict[str, Any]:
        return {"use_docker": bool(self.use_docker), "shared_volumes": bool(self.shared_volumes),
                "arguments": [str(a) for a in self.arguments], "shm_size": self.shm_size}


class MpiConfiguration:
    """An MPI job's shape: processes per node and nodes (recorded; the script runs once)."""

    def __init__(self, process_count_per_node: int = 1, node_count: int = 1) -> None:
        self.process_count_per_node = process_count_per_node
        self.node_count = node_count

    def _to_spec(self) -> dict[str, Any]:
        return {"kind": "mpi", "process_count_per_node": self.process_count_per_node,
                "node_count": self.node_count}


class PyTorchConfiguration:
    """A distributed PyTorch job: backend (Nccl or Gloo), process and node counts (recorded)."""

    def __init__(self, communication_backend: str = "Nccl", process_count: int | None = None,
                 node_count: int = 1) -> None:
        if str(communication_backend).lower() not in SUPPORTED_PYTORCH_BACKENDS:
            raise RunConfigurationException(
                f"{communication_backend} is not a supported backend. 'communication_backend' "
                "must be 'Nccl' or 'Gloo'.")
        self.communication_backend = str(communication_backend).lower()
        self.process_count = process_count
        self.node_count = node_count

    def _to_spec(self) -> dict[str, Any]:
        return {"kind": "pytorch", "communication_backend": self.communication_backend,
                "process_count": self.process_count, "node_count": self.node_count}


class TensorflowConfiguration:
    """A distributed TensorFlow job: worker and parameter-server counts (recorded)."""

    def __init__(self, worker_count: int = 1, parameter_server_count: int = 1) -> None:
        self.worker_count = worker_count
        self.parameter_server_count = parameter_server_count

    def _to_spec(self) -> dict[str, Any]:
        return {"kind": "tensorflow", "worker_count": self.worker_count,
                "parameter_server_count": self.parameter_server_count}


DISTRIBUTED_TYPES = (MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration)
