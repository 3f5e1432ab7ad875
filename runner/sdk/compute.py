"""Compute targets, registered in the local workspace.

An `AmlCompute` cluster becomes a local target whose `max_nodes` bounds how many of its
steps run at once. Databricks and Data Lake Analytics attachments are recorded (without
their tokens) so pipelines that name them build; a DatabricksStep's `python_script_name`
runs locally, its notebooks and JARs fail with a reason.
"""
from __future__ import annotations

from typing import Any, Iterator

from runner.step_runtime.exceptions import ComputeTargetException
from store import catalog
from store.records import ComputeTargetRecord


def compute_not_found(name: str) -> ComputeTargetException:
    """The SDK's error for a compute target that does not exist, with how to make it here."""
    from runner.resources.hints import missing_compute_hint
    return ComputeTargetException(
        f"ComputeTargetNotFound: Compute Target with name {name} not found in provided "
        f"workspace ({missing_compute_hint(name)})")


class ComputeTarget:
    """`ComputeTarget(ws, name)` returns the registered target as its subclass."""

    _compute_type = "Local"

    def __new__(cls, workspace: Any, name: str) -> Any:
        record = catalog.get_compute_target(workspace._local.conn, name)
        if record is None:
            from runner.resources.registry import apply_declarations
            apply_declarations(workspace._local)
            record = catalog.get_compute_target(workspace._local.conn, name)
        if record is None:
            raise compute_not_found(name)
        target_cls = _TYPES.get(record.compute_type, ComputeTarget)
        if cls is not ComputeTarget and not issubclass(target_cls, cls):
            raise ComputeTargetException(
                f"Compute target {name} is of type {record.compute_type}, not {cls._compute_type}")
        obj = object.__new__(target_cls)
        obj._init_from_record(workspace, record)
        return obj

    def __init__(self, workspace: Any, name: str) -> None:
        """Everything is set by `__new__` from the stored registration."""

    def _init_from_record(self, workspace: Any, record: ComputeTargetRecord) -> None:
        self.workspace = workspace
        self.name = record.name
        self.type = record.compute_type
        self.vm_size = record.vm_size
        self.max_nodes = record.max_nodes
        self._config = dict(record.config)
        self._created_at = record.created_at
        self.provisioning_state = "Succeeded"

    @staticmethod
    def create(workspace: Any, name: str, provisioning_configuration: Any) -> "ComputeTarget":
        """Register a compute target from its provisioning configuration."""
        provisioning_configuration.validate_configuration()
        return provisioning_configuration._register(workspace, name)

    @staticmethod
    def attach(workspace: Any, name: str, attach_configuration: Any) -> "ComputeTarget":
        """Register an existing compute resource (its credentials are not stored)."""
        attach_configuration.validate_configuration()
        return attach_configuration._register(workspace, name)

    @staticmethod
    def list(workspace: Any) -> list["ComputeTarget"]:
        return list(workspace.compute_targets.values())

    def wait_for_completion(self, show_output: bool = False, is_delete_operation: bool = False) -> None:
        """Local targets are ready at once."""
        if show_output:
            print("Provisioning operation finished, operation \"Succeeded\"")

    def get_status(self) -> str:
        return self.provisioning_state

    def refresh_state(self) -> None:
        """Nothing changes a local target behind our back."""

    def serialize(self) -> dict:
        return {"name": self.name, "type": self.type, "vm_size": self.vm_size,
                "max_nodes": self.max_nodes, "properties": dict(self._config)}

    @staticmethod
    def deserialize(workspace: Any, object_dict: dict) -> "ComputeTarget":
        return ComputeTarget(workspace, object_dict["name"])

    def delete(self) -> None:
        catalog.delete_compute_target(self.workspace._local.conn, self.name)

    def detach(self) -> None:
        self.delete()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self.workspace.name}, name={self.name})"


class AmlComputeProvisioningConfiguration:
    """The settings of a new AmlCompute cluster (the SDK's parameters; credentials are checked
    for completeness and never stored)."""

    def __init__(self, vm_size: str = "", vm_priority: str = "dedicated", min_nodes: int = 0,
                 max_nodes: int | None = None, idle_seconds_before_scaledown: int = 1800,
                 admin_username: str | None = None, admin_user_password: str | None = None,
                 admin_user_ssh_key: str | None = None, vnet_resourcegroup_name: str | None = None,
                 vnet_name: str | None = None, subnet_name: str | None = None,
                 tags: dict | None = None, description: str | None = None,
                 remote_login_port_public_access: str = "NotSpecified", identity_type: Any = None,
                 identity_id: Any = None, compute_location: str | None = None,
                 enable_node_public_ip: bool = True) -> None:
        self.vm_size = vm_size
        self.vm_priority = vm_priority
        self.min_nodes = min_nodes
        self.max_nodes = max_nodes
        self.idle_seconds_before_scaledown = idle_seconds_before_scaledown
        self.admin_username = admin_username
        self.admin_user_password = admin_user_password
        self.admin_user_ssh_key = admin_user_ssh_key
        self.vnet_resourcegroup_name = vnet_resourcegroup_name
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.tags = tags
        self.description = description
        self.remote_login_port_public_access = remote_login_port_public_access
        self.identity_type = identity_type
        self.identity_id = identity_id
        self.location = compute_location
        self.enable_node_public_ip = enable_node_public_ip

    def validate_configuration(self) -> None:
        """Raise ComputeTargetException for the SDK's invalid combinations."""
        if self.max_nodes is None or self.max_nodes < 0:
            raise ComputeTargetException("Invalid configuration, max_nodes must be a positive integer")
        if self.min_nodes is None or self.min_nodes < 0 or self.max_nodes < self.min_nodes:
            raise ComputeTargetException(
                "Invalid configuration, min_nodes must be at least 0 and not more than max_nodes")
        vnet = [self.vnet_resourcegroup_name, self.vnet_name, self.subnet_name]
        if any(vnet) and not all(vnet):
            raise ComputeTargetException(
                "Invalid configuration, vnet_resourcegroup_name, vnet_name and subnet_name must "
                "all be given together")
        if self.admin_username and not (self.admin_user_password or self.admin_user_ssh_key):
            raise ComputeTargetException(
                "Invalid configuration, admin_username needs admin_user_password or admin_user_ssh_key")

    def _register(self, workspace: Any, name: str) -> "AmlCompute":
        config = {"vm_priority": self.vm_priority, "min_nodes": self.min_nodes,
                  "idle_seconds_before_scaledown": self.idle_seconds_before_scaledown,
                  "description": self.description, "tags": self.tags}
        catalog.save_compute_target(workspace._local.conn, name, "AmlCompute", self.vm_size or None,
                                    self.max_nodes, config)
        return ComputeTarget(workspace, name)


class AmlCompute(ComputeTarget):
    """A cluster; locally its `max_nodes` is how many of its steps may run at once."""

    _compute_type = "AmlCompute"

    @staticmethod
    def provisioning_configuration(vm_size: str = "", vm_priority: str = "dedicated",
                                   min_nodes: int = 0, max_nodes: int | None = None,
                                   idle_seconds_before_scaledown: int = 1800,
                                   admin_username: str | None = None,
                                   admin_user_password: str | None = None,
                                   admin_user_ssh_key: str | None = None,
                                   vnet_resourcegroup_name: str | None = None,
                                   vnet_name: str | None = None, subnet_name: str | None = None,
                                   tags: dict | None = None, description: str | None = None,
                                   remote_login_port_public_access: str = "NotSpecified",
                                   identity_type: Any = None, identity_id: Any = None,
                                   location: str | None = None,
                                   enable_node_public_ip: bool = True) -> AmlComputeProvisioningConfiguration:
        """The configuration `ComputeTarget.create` takes."""
        return AmlComputeProvisioningConfiguration(
            vm_size, vm_priority, min_nodes, max_nodes, idle_seconds_before_scaledown,
            admin_username, admin_user_password, admin_user_ssh_key, vnet_resourcegroup_name,
            vnet_name, subnet_name, tags, description, remote_login_port_public_access,
            identity_type, identity_id, location, enable_node_public_ip)

    @staticmethod
    def create(workspace: Any, name: str, provisioning_configuration: Any) -> "ComputeTarget":
        return ComputeTarget.create(workspace, name, provisioning_configuration)

    @staticmethod
    def attach(workspace: Any, name: str, attach_configuration: Any) -> "ComputeTarget":
        return ComputeTarget.attach(workspace, name, attach_configuration)

    @staticmethod
    def list(workspace: Any) -> list[ComputeTarget]:
        return [t for t in workspace.compute_targets.values() if isinstance(t, AmlCompute)]

    def wait_for_completion(self, show_output: bool = False, min_node_count: int | None = None,
                            timeout_in_minutes: int = 25, is_delete_operation: bool = False) -> None:
        if show_output:
            print("SucceededProvisioning operation finished, operation \"Succeeded\"")

    def get(self) -> dict:
        return self.serialize()

    def get_status(self) -> Any:
        """The cluster's detailed status now (`AmlComputeStatus`: `serialize()`, node counts,
        scale settings); a node is one of its steps preparing or running."""
        from runner.sdk.compute_status import aml_compute_status
        return aml_compute_status(self)

    @property
    def status(self) -> Any:
        return self.get_status()

    def list_nodes(self) -> list[dict]:
        """The occupied nodes: one per step of this cluster preparing or running."""
        from runner.sdk.compute_status import list_nodes
        return list_nodes(self)

    def get_active_runs(self, type: str | None = None, tags: Any = None, properties: Any = None,
                        status: str | None = None) -> Iterator[Any]:
        """The step runs of this cluster that have not ended (optionally only `status`)."""
        from runner.sdk.runs import get_run
        from store.compute_usage import active_step_runs_on
        for step in active_step_runs_on(self.workspace._local.conn, self.name):
            if status is None or step.status == status:
                yield get_run(self.workspace, step.id)

    @staticmethod
    def supported_vmsizes(workspace: Any, location: str | None = None) -> list[dict]:
        """The VM sizes amlocal turns into CPU and memory limits (name, vCPUs, memoryGB)."""
        from runner.sdk.compute_status import supported_vm_sizes
        return supported_vm_sizes()

    def update(self, min_nodes: int | None = None, max_nodes: int | None = None,
               idle_seconds_before_scaledown: int | None = None) -> None:
        """Change the node limits of the cluster."""
        if max_nodes is not None:
            self.max_nodes = max_nodes
        if min_nodes is not None:
            self._config["min_nodes"] = min_nodes
        catalog.save_compute_target(self.workspace._local.conn, self.name, "AmlCompute",
                                    self.vm_size, self.max_nodes, self._config)


class _AttachConfiguration:
    """Settings for attaching an existing resource; secrets are dropped when registered."""

    compute_type = ""
    secret_fields: tuple[str, ...] = ()

    def __init__(self, **settings: Any) -> None:
        self.__dict__.update(settings)

    def validate_configuration(self) -> None:
        if not (self.resource_id or all(getattr(self, f, None) for f in self.required)):
            raise ComputeTargetException(
                f"Invalid configuration, give resource_id or {' and '.join(self.required)}")

    def _register(self, workspace: Any, name: str) -> ComputeTarget:
        config = {k: ("<set>" if k in self.secret_fields and v else v) for k, v in self.__dict__.items()}
        catalog.save_compute_target(workspace._local.conn, name, self.compute_type, None, None, config)
        return ComputeTarget(workspace, name)


class DatabricksAttachConfiguration(_AttachConfiguration):
    """How to attach a Databricks workspace (its access token is never stored)."""

    compute_type = "Databricks"
    secret_fields = ("access_token",)
    required = ("resource_group", "workspace_name")

    def __init__(self, resource_group: str | None = None, workspace_name: str | None = None,
                 resource_id: str | None = None, access_token: str = "") -> None:
        super().__init__(resource_group=resource_group, workspace_name=workspace_name,
                         resource_id=resource_id, access_token=access_token)


class DataLakeAnalyticsAttachConfiguration(_AttachConfiguration):
    """How to attach a Data Lake Analytics account."""

    compute_type = "ADLA"
    required = ("resource_group", "account_name")

    def __init__(self, resource_group: str | None = None, account_name: str | None = None,
                 resource_id: str | None = None) -> None:
        super().__init__(resource_group=resource_group, account_name=account_name,
                         resource_id=resource_id)


class DatabricksCompute(ComputeTarget):
    """An attached Databricks workspace (recorded; steps cannot run on it locally yet)."""

    _compute_type = "Databricks"

    @staticmethod
    def attach_configuration(resource_group: str | None = None, workspace_name: str | None = None,
                             resource_id: str | None = None,
                             access_token: str = "") -> DatabricksAttachConfiguration:
        return DatabricksAttachConfiguration(resource_group=resource_group,
                                             workspace_name=workspace_name,
                                             resource_id=resource_id, access_token=access_token)


class AdlaCompute(ComputeTarget):
    """An attached Data Lake Analytics account (recorded; steps cannot run on it locally yet)."""

    _compute_type = "ADLA"

    @staticmethod
    def attach_configuration(resource_group: str | None = None, account_name: str | None = None,
                             resource_id: str | None = None) -> DataLakeAnalyticsAttachConfiguration:
        return DataLakeAnalyticsAttachConfiguration(resource_group=resource_group,
                                                    account_name=account_name,
                                                    resource_id=resource_id)


_TYPES = {"AmlCompute": AmlCompute, "Databricks": DatabricksCompute, "ADLA": AdlaCompute}
