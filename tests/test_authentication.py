"""CI authentication: the SDK's credential classes work locally, hand out the workspace's local
token, and keep no secret given to them."""
from __future__ import annotations

import os
import stat

import pytest

from runner.sdk import Workspace
from runner.sdk.authentication import (AccessToken, Audience, AzureCliAuthentication,
                                       InteractiveLoginAuthentication, MsiAuthentication,
                                       ServicePrincipalAuthentication, TokenAuthentication)
from runner.step_runtime.exceptions import AuthenticationException
from store.workspace_token import token_matches, workspace_token
from tests.conftest import python_with_compat

PASSWORD = "sp-Pa55w0rd-7f3a9c"


def _every_file_holds(folder, needle: bytes) -> list[str]:
    hits = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and needle in open(path, "rb").read():
                hits.append(path)
    return hits


def test_workspace_get_with_a_service_principal_works_and_keeps_no_password(workspace, capsys):
    auth = ServicePrincipalAuthentication(tenant_id="tenant-1", service_principal_id="app-1",
                                          service_principal_password=PASSWORD)
    ws = Workspace.get(name="mlw-prod", auth=auth, subscription_id="sub-1", resource_group="rg-1")
    assert (ws.name, ws.subscription_id, ws.resource_group) == ("mlw-prod", "sub-1", "rg-1")
    header = auth.get_authentication_header()
    token = workspace_token(ws._local.layout)
    assert header == {"Authorization": f"Bearer {token}"}
    assert len(token) >= 40 and token_matches(ws._local.layout, token)
    assert not token_matches(ws._local.layout, token + "x")
    assert PASSWORD not in repr(auth) and PASSWORD not in repr(vars(auth))
    ds = ws.get_default_datastore()  # the workspace is usable: write something through it
    (ws._local.layout.root.parent / "f.txt").write_text("data")
    ds.upload_files([str(ws._local.layout.root.parent / "f.txt")], show_progress=False)
    printed = capsys.readouterr()
    assert PASSWORD not in printed.out + printed.err
    assert _every_file_holds(ws._local.layout.root, PASSWORD.encode()) == []
    dump = "\n".join(ws._local.conn.iterdump())
    assert PASSWORD not in dump


def test_the_token_is_private_random_per_workspace_and_stable(workspace, tmp_path):
    layout = workspace._local.layout
    token = workspace_token(layout)
    assert workspace_token(layout) == token
    path = layout.root / "private" / "workspace_token"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    from store.layout import WorkspaceLayout
    other = WorkspaceLayout(tmp_path / "other" / ".amlocal")
    other.ensure()
    assert workspace_token(other) != token


def test_every_credential_class_takes_the_sdks_arguments(workspace):
    expected = {"Authorization": f"Bearer {workspace_token(workspace._local.layout)}"}
    for auth in (InteractiveLoginAuthentication(), InteractiveLoginAuthentication(True, "t"),
                 AzureCliAuthentication(), AzureCliAuthentication(cloud="AzureCloud"),
                 MsiAuthentication(), MsiAuthentication(identity_config={"client_id": "c"}),
                 ServicePrincipalAuthentication("t", "id", "pw", "AzureCloud"),
                 TokenAuthentication(lambda audience: "never-called")):
        assert auth.get_authentication_header() == expected
    token = AzureCliAuthentication().get_token("https://management.azure.com/.default")
    assert type(token) is AccessToken and type(token.expires_on) is int
    assert token.token == expected["Authorization"].split()[1]
    assert TokenAuthentication(lambda a: "x").get_token(Audience.AZUREML) == token.token
    session = MsiAuthentication().signed_session()
    assert session.headers["Authorization"] == expected["Authorization"]


def test_token_authentication_without_a_function_is_refused():
    with pytest.raises(AuthenticationException, match="get_token_for_audience cannot be null."):
        TokenAuthentication(None)


def test_from_config_and_the_constructor_accept_auth(workspace, tmp_path):
    (tmp_path / ".azureml").mkdir()
    (tmp_path / ".azureml" / "config.json").write_text(
        '{"subscription_id": "s", "resource_group": "r", "workspace_name": "w"}')
    auth = AzureCliAuthentication()
    assert Workspace.from_config(auth=auth).name == "w"
    assert Workspace("s", "r", "w2", auth=auth).name == "w2"


def test_the_compat_module_imports_as_in_the_sdk():
    code = ("from azureml.core.authentication import (ServicePrincipalAuthentication, "
            "InteractiveLoginAuthentication, AzureCliAuthentication, MsiAuthentication, "
            "TokenAuthentication); from azureml.exceptions import AuthenticationException; "
            "print(ServicePrincipalAuthentication.__module__)")
    done = python_with_compat(code)
    assert done.stdout == "runner.sdk.authentication\n", done.stderr
