"""`azureml.core.authentication`: the SDK's credential classes, for a workspace on this machine.

A local workspace needs no Azure login, so each class takes the SDK's constructor arguments
and asks for nothing. Whatever secret is passed in (a service principal's password, a token
callback) is never kept, stored or printed: the object remembers only that one was given.
`get_authentication_header()` returns the workspace's local bearer token
(`{"Authorization": "Bearer <token>"}`), the token the workspace service accepts, so a
notebook that calls a published endpoint with this header works unmodified.
"""
from __future__ import annotations

import time
from enum import Enum
from typing import Any, Callable, NamedTuple

from runner.step_runtime.exceptions import AuthenticationException

TOKEN_LIFETIME_SECONDS = 3600  # reported as the token's lifetime; the local token stays valid


class AccessToken(NamedTuple):
    """What `get_token` returns: the token and when callers should get a new one (epoch s)."""

    token: str
    expires_on: int


class Audience(Enum):
    """Audiences of `TokenAuthentication.get_token`."""

    ARM = "ARM"
    AZUREML = "AZUREML"


def _local_token() -> str:
    from runner.sdk.local_context import local_workspace
    from store.workspace_token import workspace_token
    return workspace_token(local_workspace().layout)


class AbstractAuthentication:
    """What every credential offers: a header, a token and a signed HTTP session."""

    def __init__(self, cloud: str | None = None) -> None:
        self._cloud = cloud or "AzureCloud"

    def get_authentication_header(self) -> dict[str, str]:
        """`{"Authorization": "Bearer <the workspace's local token>"}`, a new dict each time."""
        return {"Authorization": "Bearer " + _local_token()}

    def get_token(self, *scopes: Any, **kwargs: Any) -> AccessToken:
        """The local token as an `AccessToken(token, expires_on)` (for track-2 SDK clients)."""
        return AccessToken(_local_token(), int(time.time()) + TOKEN_LIFETIME_SECONDS)

    def signed_session(self, session: Any = None) -> Any:
        """`session` (a new `requests.Session` when None) with the header on every request."""
        import requests
        session = session or requests.Session()
        session.headers.update(self.get_authentication_header())
        return session

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class InteractiveLoginAuthentication(AbstractAuthentication):
    """The SDK's browser login; locally there is nothing to log in to."""

    def __init__(self, force: bool = False, tenant_id: str | None = None,
                 cloud: str | None = None) -> None:
        super().__init__(cloud)
        self._tenant_id = tenant_id


class AzureCliAuthentication(AbstractAuthentication):
    """The SDK's `az login` credential; locally the Azure CLI is not needed."""


class MsiAuthentication(AbstractAuthentication):
    """A managed identity's credential; `identity_config` is accepted and recorded."""

    def __init__(self, cloud: str | None = None, **kwargs: Any) -> None:
        super().__init__(cloud)
        self._identity_config = dict(kwargs.pop("identity_config", None) or {})


class ServicePrincipalAuthentication(AbstractAuthentication):
    """CI's credential: a tenant, an application id and its password (which is not kept)."""

    def __init__(self, tenant_id: str, service_principal_id: str, service_principal_password: str,
                 cloud: str = "AzureCloud", _enable_caching: bool = True) -> None:
        super().__init__(cloud)
        self._tenant_id = tenant_id
        self._service_principal_id = service_principal_id
        self._password_given = bool(service_principal_password)

    def __repr__(self) -> str:
        return (f"ServicePrincipalAuthentication(tenant_id={self._tenant_id!r}, "
                f"service_principal_id={self._service_principal_id!r})")


class TokenAuthentication(AbstractAuthentication):
    """A credential whose tokens come from the caller's function; locally it is not called
    (no Azure token is needed), and `get_token` returns the local token."""

    def __init__(self, get_token_for_audience: Callable[[Any], str] | None,
                 cloud: str | None = None) -> None:
        super().__init__(cloud)
        if get_token_for_audience is None:
            raise AuthenticationException("get_token_for_audience cannot be null.")

    def get_token(self, audience: Audience = Audience.ARM) -> str:  # type: ignore[override]
        """The local token (the SDK returns the token string for `audience`)."""
        if audience not in (Audience.ARM, Audience.AZUREML):
            raise ValueError(f"Unsupported audience {audience}. Supported values are : "
                             f"{Audience.ARM} and {Audience.AZUREML}")
        return _local_token()
