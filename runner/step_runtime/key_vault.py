"""Reading the workspace's Key Vault from inside a step: `run.get_secret(name)`.

The runner tells a step where the secrets file is (`AMLOCAL_SECRETS_FILE`; in a container it
is mounted read-only) and nothing else: a value is read from the file only when the step asks
for it, and never passes through an environment variable, a log or the database. The file's
shape is the one `store.key_vault` writes: `{"format": 1, "secrets": {NAME: {"value": ...}}}`.
Standard library only.
"""
from __future__ import annotations

import json
import os

from runner.step_runtime import contract
from runner.step_runtime.http_errors import LocalServiceError


def _secrets() -> dict[str, dict]:
    path = os.environ.get(contract.SECRETS_FILE)
    if not path:
        return {}
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    with os.fdopen(fd, "rb") as handle:
        data = json.loads(handle.read() or b"{}")
    return dict(data.get("secrets") or {})


def read_secrets(names: list[str]) -> dict[str, str | None]:
    """name → value for each of `names` (None where the Key Vault has no such secret)."""
    secrets = _secrets()
    return {name: (secrets[name].get("value") if name in secrets else None) for name in names}


def read_secret(name: str) -> str:
    """The value of secret `name`; the service's error (404) when there is none."""
    value = read_secrets([name])[name]
    if value is None:
        raise LocalServiceError(
            f"Secret {name} was not found in the workspace's key vault (amlocal: set it with "
            f"`amlocal secret set {name}`, which reads the value from stdin, or "
            f"ws.get_default_keyvault().set_secret({name!r}, value))")
    return value
