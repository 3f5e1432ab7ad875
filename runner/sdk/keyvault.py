"""`Keyvault`: the workspace's Key Vault (`ws.get_default_keyvault()`), kept on this machine.

Secrets live in one owner-only file of the workspace (see `store.key_vault`), never in the
database, logs or snapshots. A step reads them with `Run.get_context().get_secret(name)`,
only when it asks. Errors are the service's: a missing secret is a 404 `ErrorResponseException`
(an `HttpOperationError`), with the command that sets it.
"""
from __future__ import annotations

from enum import Enum
from typing import Any

from runner.step_runtime.http_errors import LocalServiceError
from store import key_vault
from store.errors import NotFoundError


class KeyVaultContentType(str, Enum):
    """What a secret holds (`azureml._restclient.models.credential_enums`)."""

    not_provided = "application/NotProvided"
    storage_account_access_key = "application/vnd.ms-StorageAccountAccessKey"
    storage_account_server_side_encryption_key = \
        "application/vnd.ms-StorageAccountServerSideEncryptionKey"
    storage_sas_token = "application/vnd.ms-StorageSAStoken"
    storage_connection_string = "application/vnd.ms-StorageConnectionString"
    client_side_encryption_key = "application/vnd.ms-ClientSideEncryptionKey"
    password = "application/vnd.ms-password"
    servicebus_sas_token = "application/vnd.ms-ServiceBusSAStoken"


def _not_found(name: str) -> LocalServiceError:
    return LocalServiceError(
        f"Secret {name} was not found in the workspace's key vault (amlocal: set it with "
        f"`amlocal secret set {name}`, which reads the value from stdin)")


def _checked(name: str) -> str:
    try:
        return key_vault.check_secret_name(name)
    except key_vault.SecretNameError as exc:
        raise LocalServiceError(str(exc), status_code=400) from None


class Keyvault:
    """Set, get, list and delete the workspace's secrets."""

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace

    @property
    def _layout(self) -> Any:
        return self.workspace._local.layout

    def set_secret(self, name: str, value: str,
                   content_type: KeyVaultContentType = KeyVaultContentType.not_provided) -> None:
        """Add or replace secret `name`."""
        key_vault.set_secrets(self._layout, {_checked(name): value},
                              getattr(content_type, "value", content_type))

    def set_secrets(self, secrets_batch: dict[str, str]) -> None:
        """Add or replace every secret of `secrets_batch` (name → value), in one write."""
        key_vault.set_secrets(self._layout, {_checked(n): v for n, v in secrets_batch.items()})

    def get_secret(self, name: str) -> str:
        """The value of secret `name`."""
        value = key_vault.get_secrets(self._layout, [name])[name]
        if value is None:
            raise _not_found(name)
        return value

    def get_secrets(self, secrets: list[str]) -> dict[str, str | None]:
        """name → value for each of `secrets`; None for the ones that do not exist."""
        return key_vault.get_secrets(self._layout, list(secrets))

    def get_secret_content_type(self, name: str) -> str:
        """The content type secret `name` was set with."""
        try:
            return key_vault.get_secret_info(self._layout, name).content_type
        except NotFoundError:
            raise _not_found(name) from None

    def delete_secret(self, name: str) -> None:
        """Remove secret `name`."""
        self.delete_secrets([name])

    def delete_secrets(self, secrets: list[str]) -> None:
        """Remove every one of `secrets`; if one does not exist, none is removed."""
        missing = key_vault.delete_secrets(self._layout, list(secrets))
        if missing:
            raise _not_found(missing[0])

    def list_secrets(self) -> list[dict[str, str]]:
        """`[{"name": ...}, ...]`: the secrets' names (never their values)."""
        return [{"name": info.name} for info in key_vault.list_secrets(self._layout)]

    def __repr__(self) -> str:
        return f"Keyvault(workspace={self.workspace.name})"
