"""The workspace's Key Vault, emulated: secrets in one owner-only file of the workspace.

The file is `<workspace>/secrets/secrets.json` (folder 0700, file 0600), JSON of the shape
`{"format": 1, "secrets": {NAME: {"value", "content_type", "created", "modified"}}}`. Steps
read it on demand through `runner.step_runtime.key_vault` (the folder is mounted read-only
into a step's container, never writable), which knows the same shape. Values never go to the
database, logs or snapshots. Writes hold a lock, so two processes setting secrets at once
lose neither.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from store.errors import NotFoundError, StoreError
from store.layout import WorkspaceLayout
from store.private_files import (ensure_private_dir, private_lock, read_private_file,
                                 write_private_file)

SECRETS_DIRNAME = "secrets"
SECRETS_FILE = "secrets.json"
FORMAT = 1
NOT_PROVIDED = "application/NotProvided"
# Azure Key Vault's rule for secret names.
_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


class SecretNameError(StoreError, ValueError):
    """A secret name Azure Key Vault would refuse."""


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown about a secret: everything but its value."""

    name: str
    content_type: str
    created: float
    modified: float


def secrets_dir(layout: WorkspaceLayout) -> Path:
    """The folder holding the secrets file (mounted read-only into steps)."""
    return layout.root / SECRETS_DIRNAME


def secrets_path(layout: WorkspaceLayout) -> Path:
    """The secrets file of the workspace at `layout` (it may not exist yet)."""
    return secrets_dir(layout) / SECRETS_FILE


def check_secret_name(name: object) -> str:
    """`name` if Azure Key Vault accepts it as a secret name; SecretNameError otherwise."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise SecretNameError(f"secret name {name!r} is not valid: use 1 to 127 letters, digits "
                              "and '-' (Azure Key Vault's rule)")
    return name


def _load(layout: WorkspaceLayout) -> dict[str, dict]:
    raw = read_private_file(secrets_path(layout))
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise StoreError(f"{secrets_path(layout)} is not readable JSON ({exc}); "
                         "fix or delete it") from exc
    return dict(data.get("secrets") or {})


def _save(layout: WorkspaceLayout, secrets: dict[str, dict]) -> None:
    text = json.dumps({"format": FORMAT, "secrets": secrets}, indent=1, sort_keys=True)
    write_private_file(secrets_path(layout), text.encode("utf-8"))


def set_secrets(layout: WorkspaceLayout, values: dict[str, str],
                content_type: str = NOT_PROVIDED) -> None:
    """Add or replace the secrets in `values` (name → value), all in one write."""
    for name in values:
        check_secret_name(name)
    folder = ensure_private_dir(secrets_dir(layout))
    now = time.time()
    with private_lock(folder, ".lock"):
        secrets = _load(layout)
        for name, value in values.items():
            if value is None:
                raise StoreError(f"secret {name}: a value is required")
            created = secrets.get(name, {}).get("created", now)
            secrets[name] = {"value": str(value), "content_type": str(content_type),
                             "created": created, "modified": now}
        _save(layout, secrets)


def get_secrets(layout: WorkspaceLayout, names: Iterable[str]) -> dict[str, str | None]:
    """name → value for each of `names`; None for a name that has no secret."""
    secrets = _load(layout)
    return {name: (secrets[name]["value"] if name in secrets else None) for name in names}


def get_secret_info(layout: WorkspaceLayout, name: str) -> SecretInfo:
    """The record of secret `name` (no value); NotFoundError when there is none."""
    entry = _load(layout).get(name)
    if entry is None:
        raise NotFoundError(f"no secret named {name!r}")
    return SecretInfo(name, entry.get("content_type", NOT_PROVIDED), entry.get("created", 0.0),
                      entry.get("modified", 0.0))


def list_secrets(layout: WorkspaceLayout) -> list[SecretInfo]:
    """Every secret's record, by name (values are never listed)."""
    return [get_secret_info(layout, name) for name in sorted(_load(layout))]


def delete_secrets(layout: WorkspaceLayout, names: Iterable[str]) -> list[str]:
    """Remove the named secrets; returns the names that had none (nothing is removed then)."""
    names = list(names)
    folder = secrets_dir(layout)
    if not folder.exists():
        return names
    ensure_private_dir(folder)
    with private_lock(folder, ".lock"):
        secrets = _load(layout)
        missing = [n for n in names if n not in secrets]
        if missing:
            return missing
        for name in names:
            del secrets[name]
        _save(layout, secrets)
    return []
