"""What `Experiment` offers besides submitting and listing runs: its portal link, identity and
tags (kept in the workspace database), as in the SDK."""
from __future__ import annotations

from typing import Any

from runner.step_runtime.portal import WorkspacePortal
from store import tags as store_tags


class ExperimentApi(WorkspacePortal):
    """Mixin of `Experiment`: identity, links and tags."""

    _SDK_QUALNAME = "azureml.core.experiment.Experiment"
    _workspace: Any
    _name: str

    @property
    def identity(self) -> str:
        """`Experiment#<name>`, the SDK's logging identity."""
        return f"Experiment{self.DELIM}{self._name}"

    def _portal_workspace(self) -> tuple[str, str, str]:
        ws = self._workspace
        return ws.subscription_id, ws.resource_group, ws.name

    def get_portal_url(self) -> str:
        """The experiment's link in the SDK's layout: `amlocal://portal/experiments/id/<id>?wsid=…`."""
        return self._portal_link(self.EXPERIMENT_ID_PATH.format(self.id))  # type: ignore[attr-defined]

    def _ensure(self) -> None:
        self.id  # type: ignore[attr-defined]  # creates the experiment on first use

    @property
    def tags(self) -> dict[str, str]:
        self._ensure()
        return store_tags.get_tags(self._workspace._local.conn, "experiment", self._name)

    def tag(self, key: str, value: Any = None) -> None:
        """Set tag `key` (to "" when no value is given)."""
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Merge `tags` into the experiment's tags."""
        self._ensure()
        store_tags.set_tags(self._workspace._local.conn, "experiment", self._name, tags)

    def remove_tags(self, tags: list[str]) -> None:
        """Remove the tags named in `tags`."""
        self._ensure()
        store_tags.remove_tags(self._workspace._local.conn, "experiment", self._name, tags)

    def refresh(self) -> None:
        """Read the experiment again (its id; tags are always read fresh)."""
        self._ensure()

    @property
    def archived_time(self) -> None:
        """When the experiment was archived: never, as amlocal does not archive experiments."""
        return None
