"""`run.experiment` inside a step: the experiment and the workspace a step's run belongs to,
as far as a step can see them (names from its environment; standard library only)."""
from __future__ import annotations

import os

from typing import Any

from runner.step_runtime import contract

# The identity of the local workspace, when the script named no Azure workspace.
LOCAL_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
LOCAL_RESOURCE_GROUP = "amlocal"
LOCAL_WORKSPACE_NAME = "local"
LOCAL_LOCATION = "local"


class StepDatastore:
    """A datastore as a step sees it: its name and workspace, enough to name dataset paths
    (`(datastore, 'path')`)."""

    def __init__(self, workspace: "StepWorkspace", name: str) -> None:
        self.workspace = workspace
        self.name = name

    def __repr__(self) -> str:
        return f"Datastore({self.name})"


class StepWorkspace:
    """`run.experiment.workspace` in a step: its name, subscription, resource group and
    location. What needs amlocal's client SDK (datastores, models) is not there yet, and
    says so."""

    def __init__(self, name: str, subscription_id: str, resource_group: str,
                 location: str = LOCAL_LOCATION) -> None:
        self.name = name
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.location = location

    @classmethod
    def from_environment(cls) -> "StepWorkspace":
        """The workspace the step's pipeline run was submitted to."""
        return cls(os.environ.get(contract.WORKSPACE_NAME) or LOCAL_WORKSPACE_NAME,
                   os.environ.get(contract.SUBSCRIPTION) or LOCAL_SUBSCRIPTION,
                   os.environ.get(contract.RESOURCE_GROUP) or LOCAL_RESOURCE_GROUP)

    def _registry(self) -> Any:
        """The step's view of the workspace's registries."""
        from runner.step_runtime.registry_view import step_registry
        return step_registry()

    @property
    def models(self) -> dict[str, Any]:
        """Every registered model by name (its latest version)."""
        from runner.step_runtime.model import Model
        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def datasets(self) -> dict[str, Any]:
        """Every registered dataset by name (its latest version)."""
        return self._registry().datasets(self)

    @property
    def datastores(self) -> dict[str, "StepDatastore"]:
        """The datastores this step can see (those of registered datasets and its inputs)."""
        return {n: StepDatastore(self, n) for n in self._registry().datastore_names()}

    def get_default_datastore(self) -> "StepDatastore":
        """The workspace's default datastore, as far as the step can see it."""
        return StepDatastore(self, self._registry().default_datastore())

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(f"amlocal does not provide Workspace.{name} inside a step yet: pass "
                             "what the step needs as an argument or input instead")

    def __repr__(self) -> str:
        return (f"Workspace.create(name='{self.name}', subscription_id='{self.subscription_id}', "
                f"resource_group='{self.resource_group}')")


class StepExperiment:
    """`run.experiment` in a step: the experiment's name and its workspace."""

    def __init__(self, name: str, workspace: StepWorkspace | None = None) -> None:
        self.name = name
        self.workspace = workspace or StepWorkspace.from_environment()

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name},\nWorkspace: {self.workspace.name})"
