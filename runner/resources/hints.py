"""What a user sees when a script names a compute target or datastore the workspace lacks:
the SDK's error, then the exact command or amlocal.yaml entry that makes it."""
from __future__ import annotations

from typing import Any, Callable

from runner.resources.declaration import find_declaration


def _where() -> str:
    found = find_declaration()
    return f"in {found}" if found is not None else "in amlocal.yaml beside the script"


def missing_compute_hint(name: str) -> str:
    """How to make compute target `name`, as one line."""
    return (f"amlocal: create it with `amlocal compute create {name} --max-nodes 1` "
            f"(add --vm-size SIZE for its limits), or declare it {_where()}: "
            f"compute: [{{name: {name}, max_nodes: 1}}]")


def missing_datastore_hint(name: str) -> str:
    """How to make datastore `name`, as one line."""
    return (f"amlocal: register it with `amlocal datastore register {name}` (--from DIR copies "
            f"files in), or declare it {_where()}: datastores: [{{name: {name}}}]")


class MissingKeyError(KeyError):
    """The SDK's `KeyError` for `ws.compute_targets[name]` / `ws.datastores[name]`, with a hint."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(name)
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.args[0]!r} ({self.hint})"


MissingKeyError.__name__ = MissingKeyError.__qualname__ = "KeyError"  # what the SDK raises


class NamedResources(dict):
    """`ws.compute_targets` / `ws.datastores`: a dict whose missing keys say how to make them."""

    def __init__(self, items: dict[str, Any], hint: Callable[[str], str]) -> None:
        super().__init__(items)
        self._hint = hint

    def __missing__(self, name: str) -> Any:
        raise MissingKeyError(name, self._hint(name))
