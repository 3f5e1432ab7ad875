"""The service's gate: every API request needs `Authorization: Bearer <workspace token>`.

A plain ASGI middleware rather than Starlette's `BaseHTTPMiddleware`, which runs each request
in a task of its own with a streamed copy of the response; that cost a third of the
service's time per submit under load. A request without the right token is answered 401 as
Azure's ErrorResponse and never reaches a route, so it never starts a run.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from fastapi.responses import JSONResponse

from runner.service_control import API_PREFIX
from store.layout import WorkspaceLayout
from store.workspace_token import token_matches

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]],
                   Awaitable[None]]
UNAUTHORIZED = ("Authorization: Bearer <token> is missing or wrong; get the header from "
                "get_authentication_header() or the token from `amlocal service token`")
log = logging.getLogger("amlocal.service")


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer …` header among raw ASGI headers (None: none)."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class TokenGate:
    """ASGI middleware answering 401 to API requests without the workspace's token."""

    def __init__(self, app: ASGIApp, layout: WorkspaceLayout,
                 error_body: Callable[[int, str, str], dict[str, Any]]) -> None:
        self.app = app
        self.layout = layout
        self.error_body = error_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            headers = scope.get("headers") or []
            token = bearer_token(headers)
            if not token_matches(self.layout, token):
                said = any(name.lower() == b"authorization" for name, _ in headers)
                log.warning("401 %s %s: %s token", scope["method"], scope["path"],
                            "wrong" if said else "no")
                response = JSONResponse(self.error_body(401, "AuthenticationFailed", UNAUTHORIZED),
                                        status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
