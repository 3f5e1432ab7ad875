"""`ComputeInstance`: a single development VM as a compute target.

Locally it is one node: its steps run one at a time (`max_nodes` 1), with the CPU and memory
of its `vm_size`. Its state (Running, Stopped) is kept with its registration; `start`, `stop`
and `restart` refuse the transitions the SDK refuses. Steps are not held back while it is
stopped (nothing is billed here).
"""
from __future__ import annotations

import time
from typing import Any

from runner.sdk.compute import _TYPES, ComputeTarget
from runner.step_runtime.exceptions import ComputeTargetException
from store import catalog

COMPUTE_TYPE = "ComputeInstance"


class ComputeInstanceStatus:
    """What `ComputeInstance.get_status()` returns: the instance's state and when it was made."""

    def __init__(self, state: str, creation_time: float, vm_size: str | None) -> None:
        self.state = state
        self.creation_time = creation_time
        self.vm_size = vm_size
        self.errors: list[Any] = []

    def serialize(self) -> dict:
        return {"state": self.state, "creationTime": self.creation_time, "vmSize": self.vm_size,
                "errors": list(self.errors)}

    def __repr__(self) -> str:
        return f"ComputeInstanceStatus(state={self.state!r})"


class ComputeInstanceProvisioningConfiguration:
    """The settings of a new ComputeInstance (`ComputeInstance.provisioning_configuration`)."""

    def __init__(self, vm_size: str = "", ssh_public_access: bool = False,
                 admin_user_ssh_public_key: str | None = None,
                 vnet_resourcegroup_name: str | None = None, vnet_name: str | None = None,
                 subnet_name: str | None = None, tags: dict | None = None,
                 description: str | None = None, assigned_user_object_id: str | None = None,
                 assigned_user_tenant_id: str | None = None) -> None:
        self.vm_size = vm_size
        self.ssh_public_access = ssh_public_access
        self.admin_user_ssh_public_key = admin_user_ssh_public_key
        self.vnet_resourcegroup_name = vnet_resourcegroup_name
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.tags = tags
        self.description = description
        self.assigned_user_object_id = assigned_user_object_id
        self.assigned_user_tenant_id = assigned_user_tenant_id

    def validate_configuration(self) -> None:
        """The SDK's check: virtual network settings come all together or not at all."""
        vnet = [self.vnet_name, self.vnet_resourcegroup_name, self.subnet_name]
        if any(vnet) and not all(vnet):
            raise ComputeTargetException(
                "Invalid configuration, not all virtual net information provided. To use a "
                "custom virtual net, please provide vnet name, vnet resource group and subnet name")

    def _register(self, workspace: Any, name: str) -> "ComputeInstance":
        config = {"state": "Running", "created": time.time(), "description": self.description,
                  "tags": self.tags, "ssh_public_access": self.ssh_public_access}
        catalog.save_compute_target(workspace._local.conn, name, COMPUTE_TYPE,
                                    self.vm_size or None, 1, config)
        return ComputeTarget(workspace, name)


class ComputeInstance(ComputeTarget):
    """A single VM; its steps run one at a time."""

    _compute_type = COMPUTE_TYPE

    @staticmethod
    def provisioning_configuration(vm_size: str = "", ssh_public_access: bool = False,
                                   admin_user_ssh_public_key: str | None = None,
                                   vnet_resourcegroup_name: str | None = None,
                                   vnet_name: str | None = None, subnet_name: str | None = None,
                                   tags: dict | None = None, description: str | None = None,
                                   assigned_user_object_id: str | None = None,
                                   assigned_user_tenant_id: str | None = None
                                   ) -> ComputeInstanceProvisioningConfiguration:
        """The configuration `ComputeTarget.create(ws, name, ...)` takes for a ComputeInstance."""
        return ComputeInstanceProvisioningConfiguration(
            vm_size, ssh_public_access, admin_user_ssh_public_key, vnet_resourcegroup_name,
            vnet_name, subnet_name, tags, description, assigned_user_object_id,
            assigned_user_tenant_id)

    @property
    def status(self) -> ComputeInstanceStatus:
        """The instance's current status."""
        return ComputeInstanceStatus(self._config.get("state", "Running"),
                                     self._config.get("created", 0.0), self.vm_size)

    def get_status(self) -> ComputeInstanceStatus:  # type: ignore[override]
        """The instance's current status (read again from the workspace)."""
        self.refresh_state()
        return self.status

    def refresh_state(self) -> None:
        """Read the instance's registration again (another process may have stopped it)."""
        record = catalog.get_compute_target(self.workspace._local.conn, self.name)
        if record is not None:
            self._config = dict(record.config)

    def wait_for_completion(self, show_output: bool = False,
                            is_delete_operation: bool = False) -> None:
        """Local instances are ready at once."""
        if show_output:
            print(f"{'Deleting' if is_delete_operation else 'Provisioning'} operation finished, "
                  "operation \"Succeeded\"")

    def _change_state(self, operation: str, wait_for_completion: bool, show_output: bool) -> None:
        self.refresh_state()
        state = self.status.state.lower()
        if (operation in ("stop", "restart") and state == "stopped") or \
                (operation == "start" and state.endswith("running")):
            raise ComputeTargetException(f"ComputeInstance current state ({self.status.state}) "
                                         f"does not support {operation.capitalize()} operation.\n")
        self._config["state"] = "Stopped" if operation == "stop" else "Running"
        catalog.save_compute_target(self.workspace._local.conn, self.name, COMPUTE_TYPE,
                                    self.vm_size, 1, self._config)
        if wait_for_completion and show_output:
            print(f"{operation.capitalize()} operation finished: {self._config['state']}")

    def start(self, wait_for_completion: bool = False, show_output: bool = False) -> None:
        """Start a stopped instance."""
        self._change_state("start", wait_for_completion, show_output)

    def stop(self, wait_for_completion: bool = False, show_output: bool = False) -> None:
        """Stop a running instance."""
        self._change_state("stop", wait_for_completion, show_output)

    def restart(self, wait_for_completion: bool = False, show_output: bool = False) -> None:
        """Restart a running instance."""
        self._change_state("restart", wait_for_completion, show_output)

    def get(self) -> dict:
        """The instance's registration, as the SDK's REST payload would give it."""
        return self.serialize()

    @staticmethod
    def supported_vmsizes(workspace: Any, location: str | None = None) -> list[dict]:
        """The VM sizes amlocal turns into CPU and memory limits."""
        from runner.engine.compute_limits import VM_SIZES
        return [{"name": name, "vCPUs": cpus, "memoryGB": round(memory / 1024, 1)}
                for name, (cpus, memory) in sorted(VM_SIZES.items())]


_TYPES[COMPUTE_TYPE] = ComputeInstance
