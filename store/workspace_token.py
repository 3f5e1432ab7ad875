"""The workspace's local bearer token: what `get_authentication_header()` hands out and what
the workspace service (when it runs) accepts.

One random token per workspace, made on first use and kept in `<workspace>/private/
workspace_token` (folder 0700, file 0600). The folder is never mounted into a step, so step
code cannot read it. Compare a presented token with `token_matches` (constant time).
"""
from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from store.layout import WorkspaceLayout
from store.private_files import (ensure_private_dir, private_lock, read_private_file,
                                 write_private_file)

PRIVATE_DIRNAME = "private"
TOKEN_NAME = "workspace_token"
TOKEN_BYTES = 32


def private_dir(layout: WorkspaceLayout) -> Path:
    """The workspace's owner-only folder for its own credentials (not for user secrets)."""
    return layout.root / PRIVATE_DIRNAME


def workspace_token(layout: WorkspaceLayout) -> str:
    """The token of the workspace at `layout`, made (once, even with racing processes) if new."""
    folder = ensure_private_dir(private_dir(layout))
    path = folder / TOKEN_NAME
    found = read_private_file(path)
    if found:
        return found.decode("ascii").strip()
    with private_lock(folder, ".token.lock"):
        found = read_private_file(path)
        if found:
            return found.decode("ascii").strip()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        write_private_file(path, token.encode("ascii") + b"\n")
        return token


def token_matches(layout: WorkspaceLayout, presented: str | None) -> bool:
    """True when `presented` is the workspace's token (compared in constant time)."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), workspace_token(layout).encode())
