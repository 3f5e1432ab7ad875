"""What `PublishedPipeline` offers besides submitting: its portal link and saving its
definition to a file, as in the SDK."""
from __future__ import annotations

from typing import Any

from runner.sdk.spec_file import save_spec
from runner.step_runtime.portal import WorkspacePortal


class PublishedPipelineApi(WorkspacePortal):
    """Mixin of `PublishedPipeline`: link and file."""

    _SDK_QUALNAME = "azureml.pipeline.core.graph.PublishedPipeline"
    _workspace: Any
    _id: str
    _name: str

    def _portal_workspace(self) -> tuple[str, str, str]:
        ws = self._workspace
        return ws.subscription_id, ws.resource_group, ws.name

    def get_portal_url(self) -> str:
        """The pipeline's link in the SDK's layout: `amlocal://portal/pipelines/<id>?wsid=…`."""
        return self._portal_link(self.PIPELINE_PATH.format(self._id))

    def save(self, path: str | None = None, _workflow_provider: Any = None) -> str:
        """Write the pipeline's definition to `path` (a folder: `<path>/<name>.yml`), as JSON."""
        return save_spec(self.get_graph().to_json(), path, f"{self._name}.yml")  # type: ignore[attr-defined]
