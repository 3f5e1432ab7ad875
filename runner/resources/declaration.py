"""`amlocal.yaml`: the compute targets and datastores a project expects to exist.

Real v1 projects assume clusters and datastores made beforehand (in the portal, with the CLI or
an ARM template). A project declares them in a file it commits, found like `config.json`:
from the script's folder upward, `amlocal.yaml` or `.azureml/amlocal.yaml` in each folder,
the nearest wins::

    compute:
      - name: cpu-cluster          # AmlCompute unless `type: ComputeInstance`
        vm_size: STANDARD_D2_V2    # becomes each step's CPU and memory limit
        max_nodes: 2               # how many of its steps run at once
    datastores:
      - name: my_datastore         # AzureBlob unless `type: AzureFile`
        from: data/seed            # optional: files copied in once (relative to this file)

PyYAML parses it, so any YAML a user writes by hand (comments, flow style, anchors) works.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.resources.kinds import COMPUTE_TYPES, DATASTORE_TYPES

DECLARATION_FILES = ("amlocal.yaml", os.path.join(".azureml", "amlocal.yaml"))
_COMPUTE_KEYS = ("name", "type", "vm_size", "min_nodes", "max_nodes", "description", "tags")
_DATASTORE_KEYS = ("name", "type", "container_name", "account_name", "from")


class DeclarationError(RunnerError):
    """amlocal.yaml cannot be read or declares something amlocal cannot make."""


@dataclass(frozen=True)
class DeclaredCompute:
    """A compute target the project expects: an AmlCompute cluster or a ComputeInstance."""

    name: str
    type: str = "AmlCompute"
    vm_size: str | None = None
    min_nodes: int = 0
    max_nodes: int = 1
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeclaredDatastore:
    """A datastore the project expects, and the folder its first files come from (if any)."""

    name: str
    type: str = "AzureBlob"
    container_name: str | None = None
    account_name: str | None = None
    seed_from: Path | None = None


@dataclass(frozen=True)
class Declaration:
    """What one amlocal.yaml declares."""

    path: Path
    compute: tuple[DeclaredCompute, ...] = ()
    datastores: tuple[DeclaredDatastore, ...] = ()


def script_folder() -> Path:
    """Where the search starts: the running script's folder, else the current folder."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main and main.endswith(".py"):
        folder = Path(main).resolve().parent
        if not folder.is_relative_to(Path(sys.prefix).resolve()):
            return folder
    return Path.cwd()


def find_declaration(start: Path | None = None) -> Path | None:
    """The nearest amlocal.yaml (or .azureml/amlocal.yaml) from `start` upward, if any."""
    here = Path(start or script_folder()).resolve()
    for folder in (here, *here.parents):
        for name in DECLARATION_FILES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def _fail(path: Path, where: str, problem: str) -> DeclarationError:
    return DeclarationError(f"{path}: {where}: {problem}")


def _whole(path: Path, where: str, key: str, value: Any, least: int) -> int:
    if type(value) is not int or value < least:
        raise _fail(path, where, f"{key} must be a whole number of at least {least}, not {value!r}")
    return value


def _text(path: Path, where: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise _fail(path, where, f"{key} must be text, not {value!r}")
    return str(value)


def _items(path: Path, data: dict, section: str, keys: tuple[str, ...]) -> list[tuple[str, dict]]:
    entries = data.get(section) or []
    if not isinstance(entries, list):
        raise _fail(path, section, "must be a list of entries (each line starting with '- ')")
    out, seen = [], set()
    for index, entry in enumerate(entries):
        where = f"{section}[{index}]"
        if not isinstance(entry, dict):
            raise _fail(path, where, f"must be a mapping such as {{name: ...}}, not {entry!r}")
        name = entry.get("name")
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise _fail(path, where, f"needs a name (a plain word), not {name!r}")
        where = f"{where} ({name})"
        unknown = sorted(set(entry) - set(keys))
        if unknown:
            raise _fail(path, where, f"unknown key {unknown[0]!r}; the keys are {', '.join(keys)}")
        if name in seen:
            raise _fail(path, where, f"{name} is declared twice")
        seen.add(name)
        out.append((where, entry))
    return out


def _compute(path: Path, where: str, entry: dict) -> DeclaredCompute:
    kind = entry.get("type") or "AmlCompute"
    if kind not in COMPUTE_TYPES:
        raise _fail(path, where, f"type must be one of {', '.join(COMPUTE_TYPES)}, not {kind!r}")
    max_nodes = _whole(path, where, "max_nodes", entry.get("max_nodes", 1), 1)
    min_nodes = _whole(path, where, "min_nodes", entry.get("min_nodes", 0), 0)
    if min_nodes > max_nodes:
        raise _fail(path, where, f"min_nodes {min_nodes} is more than max_nodes {max_nodes}")
    if kind == "ComputeInstance" and max_nodes != 1:
        raise _fail(path, where, "a ComputeInstance is one machine: max_nodes must be 1")
    tags = entry.get("tags") or {}
    if not isinstance(tags, dict):
        raise _fail(path, where, f"tags must be a mapping, not {tags!r}")
    return DeclaredCompute(entry["name"], kind, _text(path, where, "vm_size", entry.get("vm_size")),
                           min_nodes, max_nodes,
                           _text(path, where, "description", entry.get("description")),
                           {str(k): str(v) for k, v in tags.items()})


def _datastore(path: Path, where: str, entry: dict) -> DeclaredDatastore:
    kind = entry.get("type") or "AzureBlob"
    if kind not in DATASTORE_TYPES:
        raise _fail(path, where, f"type must be one of {', '.join(DATASTORE_TYPES)}, not {kind!r}")
    seed = entry.get("from")
    seed_path = None
    if seed is not None:
        if not isinstance(seed, str) or not seed:
            raise _fail(path, where, f"from must be a folder, not {seed!r}")
        seed_path = (path.parent / seed).resolve()
        if not seed_path.is_dir():
            raise _fail(path, where, f"from: {seed} is not a folder (looked for {seed_path})")
    return DeclaredDatastore(entry["name"], kind,
                             _text(path, where, "container_name", entry.get("container_name")),
                             _text(path, where, "account_name", entry.get("account_name")),
                             seed_path)


def load_declaration(path: Path) -> Declaration:
    """Parse and check the declaration file `path`; DeclarationError says what is wrong."""
    import yaml
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeclarationError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DeclarationError(f"{path}: {line}: {problem}") from exc
    if data is None:
        return Declaration(path)
    if not isinstance(data, dict):
        raise _fail(path, "top level", "must be a mapping with compute: and datastores:")
    unknown = sorted(set(data) - {"compute", "datastores"})
    if unknown:
        raise _fail(path, "top level", f"unknown section {unknown[0]!r}; the sections are "
                                       "compute and datastores")
    compute = tuple(_compute(path, where, e) for where, e in _items(path, data, "compute",
                                                                   _COMPUTE_KEYS))
    datastores = tuple(_datastore(path, where, e) for where, e in _items(path, data, "datastores",
                                                                         _DATASTORE_KEYS))
    return Declaration(path, compute, datastores)
