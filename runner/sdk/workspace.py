"""`Workspace`: the SDK's handle on a workspace, mapped to the local `.amlocal/` workspace.

Every Azure workspace name maps to the one local workspace found from the current directory;
the subscription, resource group and name are kept (they reach steps as `AZUREML_ARM_*`).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from runner.sdk.compute import AmlComputeProvisioningConfiguration
from runner.sdk.local_context import local_workspace
from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.experiment_ref import (LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION,  # noqa: F401
                                                LOCAL_WORKSPACE_NAME)
from store import catalog
from store.workspace import OpenWorkspace

_CONFIG_CANDIDATES = (os.path.join(".azureml", "config.json"), os.path.join("aml_config", "config.json"),
                      "config.json")


def _find_config(path: str | None, file_name: str | None) -> Path | None:
    start = Path(path or os.getcwd()).resolve()
    if start.is_file():
        return start
    candidates = (file_name,) if file_name else _CONFIG_CANDIDATES
    for candidate in candidates:
        for directory in (start, *start.parents):
            for name in (candidate, candidate.replace("config.json", "project.json")):
                found = directory / name
                if found.is_file():
                    return found
    return None


class Workspace:
    """An Azure ML workspace, backed by the local workspace folder and database."""

    DEFAULT_CPU_CLUSTER_NAME = "cpu-cluster"
    DEFAULT_GPU_CLUSTER_NAME = "gpu-cluster"
    # What the SDK provisions for a workspace's default clusters (ComputeTarget.create takes them).
    DEFAULT_CPU_CLUSTER_CONFIGURATION = AmlComputeProvisioningConfiguration(
        vm_size="STANDARD_DS2_V2", min_nodes=0, max_nodes=2)
    DEFAULT_GPU_CLUSTER_CONFIGURATION = AmlComputeProvisioningConfiguration(
        vm_size="STANDARD_NC6", min_nodes=0, max_nodes=2)

    def __init__(self, subscription_id: str, resource_group: str, workspace_name: str,
                 auth: Any = None, _location: str | None = None, _disable_service_check: bool = False,
                 _workspace_id: str | None = None, sku: str = "basic", tags: dict | None = None,
                 _cloud: str = "AzureCloud") -> None:
        self._subscription_id = subscription_id
        self._resource_group = resource_group
        self._workspace_name = workspace_name
        self._auth = auth
        from runner.resources.registry import apply_declarations
        apply_declarations(local_workspace())
        self._location = _location or "local"
        self._sku = sku
        self._tags = dict(tags or {})

    # ----------------------------------------------------------------- constructors
    @staticmethod
    def create(name: str, auth: Any = None, subscription_id: str | None = None,
               resource_group: str | None = None, location: str | None = None,
               create_resource_group: bool = True, sku: str = "basic", tags: dict | None = None,
               friendly_name: str | None = None, storage_account: str | None = None,
               key_vault: str | None = None, app_insights: str | None = None,
               container_registry: str | None = None, adb_workspace: str | None = None,
               primary_user_assigned_identity: str | None = None, cmk_keyvault: str | None = None,
               resource_cmk_uri: str | None = None, hbi_workspace: bool = False,
               default_cpu_compute_target: Any = None, default_gpu_compute_target: Any = None,
               private_endpoint_config: Any = None, private_endpoint_auto_approval: bool = True,
               exist_ok: bool = False, show_output: bool = True,
               user_assigned_identity_for_cmk_encryption: str | None = None,
               system_datastores_auth_mode: str = "accessKey",
               v1_legacy_mode: bool | None = None) -> "Workspace":
        """Create the workspace: locally, this makes sure the `.amlocal/` workspace exists."""
        local_workspace()
        ws = Workspace(subscription_id or LOCAL_SUBSCRIPTION, resource_group or LOCAL_RESOURCE_GROUP,
                       name, auth, _location=location, sku=sku, tags=tags)
        if show_output:
            print(f"Deployed workspace {name} (local)")
        return ws

    @staticmethod
    def from_config(path: str | None = None, auth: Any = None, _logger: Any = None,
                    _file_name: str | None = None) -> "Workspace":
        """The workspace named in `config.json` (searched as the SDK does).

        With no config file the local workspace is used under the name "local", with a note.
        """
        found = _find_config(path, _file_name)
        if found is None:
            print("amlocal: no .azureml/config.json found; using the local workspace",
                  file=sys.stderr)
            local_workspace()
            return Workspace(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, LOCAL_WORKSPACE_NAME, auth)
        try:
            config = json.loads(found.read_text())
        except (OSError, ValueError) as exc:
            raise UserErrorException(f"workspace config {found} is not valid JSON: {exc}") from exc
        missing = [k for k in ("subscription_id", "resource_group", "workspace_name") if k not in config]
        if missing:
            raise UserErrorException(f"workspace config {found} lacks {', '.join(missing)}")
        local_workspace()
        return Workspace(config["subscription_id"], config["resource_group"],
                         config["workspace_name"], auth)

    @staticmethod
    def get(name: str, auth: Any = None, subscription_id: str | None = None,
            resource_group: str | None = None, location: str | None = None,
            cloud: str = "AzureCloud", id: str | None = None) -> "Workspace":
        """The workspace `name` (the local workspace under that name)."""
        local_workspace()
        return Workspace(subscription_id or LOCAL_SUBSCRIPTION, resource_group or LOCAL_RESOURCE_GROUP,
                         name, auth, _location=location)

    @staticmethod
    def list(subscription_id: str, auth: Any = None, resource_group: str | None = None) -> dict[str, list["Workspace"]]:
        """{name: [Workspace]}: the one local workspace, under the name `config.json` gives it
        (else "local")."""
        found = _find_config(None, None)
        config = {}
        if found is not None:
            try:
                config = json.loads(found.read_text())
            except (OSError, ValueError):
                config = {}
        name = config.get("workspace_name", LOCAL_WORKSPACE_NAME)
        local_workspace()
        return {name: [Workspace(subscription_id, config.get("resource_group", resource_group or
                                                             LOCAL_RESOURCE_GROUP), name, auth)]}

    # ----------------------------------------------------------------- identity
    @property
    def name(self) -> str:
        return self._workspace_name

    @property
    def subscription_id(self) -> str:
        return self._subscription_id

    @property
    def resource_group(self) -> str:
        return self._resource_group

    @property
    def location(self) -> str:
        return self._location

    @property
    def sku(self) -> str:
        return self._sku

    @property
    def tags(self) -> dict:
        return dict(self._tags)

    @property
    def _local(self) -> OpenWorkspace:
        return local_workspace()

    def get_details(self) -> dict:
        """The workspace's details; `localPath` is the `.amlocal` folder."""
        return {"name": self.name, "subscriptionId": self.subscription_id,
                "resourceGroup": self.resource_group, "location": self.location,
                "sku": self.sku, "localPath": str(self._local.layout.root)}

    def write_config(self, path: str | None = None, file_name: str | None = None) -> None:
        """Write `.azureml/config.json` so `from_config` finds this workspace."""
        folder = Path(path or os.getcwd()) / ".azureml"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / (file_name or "config.json")).write_text(json.dumps({
            "subscription_id": self.subscription_id, "resource_group": self.resource_group,
            "workspace_name": self.name}, indent=2))

    # ----------------------------------------------------------------- contents
    def _registry(self) -> Any:
        """The workspace's registries of datasets, models and environments."""
        from runner.sdk.workspace_registry import HostRegistry
        return HostRegistry(self._local)

    @property
    def models(self) -> dict[str, Any]:
        """Every registered model by name (its latest version)."""
        from runner.step_runtime.model import Model
        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def datasets(self) -> dict[str, Any]:
        """Every registered dataset by name (its latest version)."""
        return self._registry().datasets(self)

    def get_default_datastore(self) -> Any:
        """The default datastore (`workspaceblobstore` unless changed)."""
        from runner.sdk.datastore import Datastore
        return Datastore(self, catalog.default_datastore_name(self._local.conn))

    def set_default_datastore(self, name: str) -> None:
        catalog.set_default_datastore(self._local.conn, name)

    @property
    def datastores(self) -> dict[str, Any]:
        """Every registered datastore by name; a missing name's KeyError says how to make it."""
        from runner.resources import registry
        from runner.resources.hints import NamedResources, missing_datastore_hint
        from runner.sdk.datastore import Datastore
        registry.apply_declarations(self._local)
        return NamedResources({name: Datastore(self, name)
                               for name in registry.datastore_names(self._local)},
                              missing_datastore_hint)

    @property
    def environments(self) -> dict[str, Any]:
        """Every registered environment by name, at its latest version (`Environment.list`)."""
        from runner.sdk.environment import Environment
        return Environment.list(self)

    @property
    def compute_targets(self) -> dict[str, Any]:
        """Every registered compute target by name, as its ComputeTarget subclass; a missing
        name's KeyError says how to make it."""
        from runner.resources import registry
        from runner.resources.hints import NamedResources, missing_compute_hint
        from runner.sdk.compute import ComputeTarget
        registry.apply_declarations(self._local)
        return NamedResources({name: ComputeTarget(self, name)
                               for name in registry.compute_names(self._local)},
                              missing_compute_hint)

    def get_default_keyvault(self) -> Any:
        """The workspace's Key Vault (secrets kept owner-only in the workspace folder)."""
        from runner.sdk.keyvault import Keyvault
        return Keyvault(self)

    def get_default_compute_target(self, type: str) -> Any:
        """The workspace's default "CPU" or "GPU" cluster (`cpu-cluster` / `gpu-cluster` when
        registered), else None."""
        if type not in ("CPU", "GPU"):
            raise UserErrorException(f"type must be 'CPU' or 'GPU', not {type!r}")
        name = self.DEFAULT_CPU_CLUSTER_NAME if type == "CPU" else self.DEFAULT_GPU_CLUSTER_NAME
        return self.compute_targets.get(name)

    def get_mlflow_tracking_uri(self, _with_auth: bool = False) -> str:
        """An MLflow tracking URI for this workspace: MLflow's file store in `.amlocal/mlruns`
        (`mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())` logs there)."""
        return (self._local.layout.root / "mlruns").as_uri()

    # What exists only in an Azure workspace (amlocal deploys nothing and links nothing): empty.
    @property
    def webservices(self) -> dict[str, Any]:
        """Deployed web services by name: none, as amlocal does not deploy models."""
        return {}

    @property
    def images(self) -> dict[str, Any]:
        """Deployment images by name: none, as amlocal does not deploy models."""
        return {}

    @property
    def linked_services(self) -> dict[str, Any]:
        """Linked services (Synapse) by name: none locally."""
        return {}

    @property
    def private_endpoints(self) -> dict[str, Any]:
        """Private endpoints by name: none, as the local workspace has no network endpoint."""
        return {}

    @property
    def experiments(self) -> dict[str, Any]:
        from runner.sdk.experiment import Experiment
        return {e.name: Experiment(self, e.name, _id=e.id)
                for e in catalog.list_experiments(self._local.conn)}

    def _experiment(self, name: str) -> Any:
        """Experiment `name` of this workspace (runs read back from the store belong to one)."""
        from runner.sdk.experiment import Experiment
        return Experiment(self, name, _skip_name_validation=True)

    def _published_pipeline(self, published_pipeline_id: str) -> Any:
        """The PublishedPipeline with this id."""
        from runner.sdk.pipeline import PublishedPipeline
        return PublishedPipeline.get(self, published_pipeline_id)

    def get_run(self, run_id: str) -> Any:
        from runner.sdk.runs import get_run
        return get_run(self, run_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and (self.name, self.subscription_id,
                                                 self.resource_group) == (
            other.name, other.subscription_id, other.resource_group)

    def __hash__(self) -> int:
        return hash((self.name, self.subscription_id, self.resource_group))

    def __repr__(self) -> str:
        return (f"Workspace.create(name='{self.name}', subscription_id='{self.subscription_id}', "
                f"resource_group='{self.resource_group}')")
