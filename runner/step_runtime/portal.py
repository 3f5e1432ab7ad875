"""Portal links, as the SDK composes them, to amlocal's local "portal".

The SDK builds `https://ml.azure.com/runs/<id>?wsid=/subscriptions/…` from the class constants
below; amlocal keeps the constants and the layout and puts `amlocal://portal` where the Azure
portal's domain was, so code that prints or parses a run's link keeps working. The run itself
is opened with `amlocal show <id>` or in `amlocal ui`.
"""
from __future__ import annotations

PORTAL_DOMAIN = "amlocal://portal"
_DOCS_ROOT = "https://docs.microsoft.com/en-us/python/api"
_DOCS_PACKAGES = {"azureml.core": "azureml-core", "azureml.data": "azureml-core"}


def sdk_docs_url(sdk_qualname: str) -> str:
    """The SDK's documentation page of the class `sdk_qualname`, as `get_docs_url` gives it."""
    for prefix, package in _DOCS_PACKAGES.items():
        if sdk_qualname.startswith(prefix):
            return f"{_DOCS_ROOT}/{package}/{sdk_qualname}?view=azure-ml-py"
    return f"{_DOCS_ROOT}/overview/azure/ml/intro?view=azure-ml-py"


class WorkspacePortal:
    """The SDK's portal constants (`HasWorkspacePortal` / `HasExperimentPortal` / `HasRunPortal`)."""

    DELIM = "#"
    WORKSPACE_FMT = "?wsid=/subscriptions/{0}/resourcegroups/{1}/workspaces/{2}"
    TID_FMT = "&tid={0}"
    EXPERIMENT_NAME_PATH = "/experiments/{0}"
    EXPERIMENT_ID_PATH = "/experiments/id/{0}"
    RUN_PATH = "/runs/{0}"
    PIPELINE_PATH = "/pipelines/{0}"

    @property
    def portal_url(self) -> str:
        """The domain of the portal (`amlocal://portal`)."""
        return PORTAL_DOMAIN

    _SDK_QUALNAME = ""  # the SDK class this one emulates, for its documentation link

    @classmethod
    def get_docs_url(cls) -> str:
        """The SDK's documentation of the class this one emulates."""
        return sdk_docs_url(cls._SDK_QUALNAME)

    def _portal_link(self, path: str) -> str:
        """`amlocal://portal<path>?wsid=…` for this object's workspace."""
        subscription, resource_group, workspace = self._portal_workspace()
        return PORTAL_DOMAIN + path + self.WORKSPACE_FMT.format(subscription, resource_group,
                                                                workspace)

    def _portal_workspace(self) -> tuple[str, str, str]:
        """(subscription id, resource group, workspace name) of this object."""
        raise NotImplementedError
