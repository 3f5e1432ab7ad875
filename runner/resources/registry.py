"""Compute targets and datastores that exist before a script runs, made real in the workspace.

Three ways make them: a declaration (`amlocal.yaml`, applied whenever the SDK opens the
workspace or looks a resource up), the command line (`amlocal compute create`, `amlocal
datastore register`), and a folder already under `.amlocal/datastores/NAME`, which counts as
a registered blob datastore. All of them end in the catalog, where the runner reads compute
limits and datastore folders. This module is where the catalog's rows for these two kinds are
read, and turned into the records below.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from runner.resources.declaration import (Declaration, DeclaredCompute, DeclaredDatastore,
                                          find_declaration, load_declaration)
from store import catalog
from store.datastore_paths import check_name, open_datastore_file, resolve_in_datastore
from store.errors import UnsafePathError
from store.layout import DEFAULT_DATASTORES
from store.workspace import OpenWorkspace

SOURCE_KEY = "amlocal.source"  # in a registration's config: who made it


@dataclass(frozen=True)
class ComputeListing:
    """A registered compute target, as `amlocal compute list` shows it."""

    name: str
    type: str
    vm_size: str | None
    min_nodes: int
    max_nodes: int | None
    source: str


@dataclass(frozen=True)
class DatastoreListing:
    """A registered datastore, as `amlocal datastore list` shows it."""

    name: str
    type: str
    is_default: bool
    folder: Path
    source: str


@dataclass(frozen=True)
class SeedResult:
    """What seeding a datastore from a folder did."""

    copied: int
    skipped: int


# (workspace, file) → ((mtime_ns, size), the declaration applied from that version)
_applied: dict[tuple[str, str], tuple[tuple[int, int], Declaration]] = {}


def apply_declarations(local: OpenWorkspace, start: Path | None = None) -> Declaration | None:
    """Register what the nearest amlocal.yaml declares, and adopt datastore folders.

    Cheap when nothing changed: a declaration is applied once per process and file version.
    """
    adopt_datastore_folders(local)
    path = find_declaration(start)
    if path is None:
        return None
    info = path.stat()
    key, version = (str(local.layout.root), str(path)), (info.st_mtime_ns, info.st_size)
    if key in _applied and _applied[key][0] == version:
        return _applied[key][1]
    declaration = load_declaration(path)
    for compute in declaration.compute:
        _apply_compute(local, compute, f"declared in {path}")
    for datastore in declaration.datastores:
        register_datastore(local, datastore, f"declared in {path}")
    _applied[key] = (version, declaration)
    return declaration


def _apply_compute(local: OpenWorkspace, compute: DeclaredCompute, source: str) -> None:
    config = {"min_nodes": compute.min_nodes, "description": compute.description,
              "tags": dict(compute.tags), "vm_priority": "dedicated", SOURCE_KEY: source}
    record = catalog.get_compute_target(local.conn, compute.name)
    if record is not None and (record.compute_type, record.vm_size, record.max_nodes,
                               dict(record.config)) == (
            compute.type, compute.vm_size, compute.max_nodes, config):
        return
    catalog.save_compute_target(local.conn, compute.name, compute.type, compute.vm_size,
                                compute.max_nodes, config)


def create_compute(local: OpenWorkspace, compute: DeclaredCompute) -> None:
    """Create or replace compute target `compute.name` (from the command line)."""
    check_name(compute.name, what="compute target name")
    _apply_compute(local, compute, "amlocal compute create")


def list_compute(local: OpenWorkspace) -> list[ComputeListing]:
    """Every registered compute target, by name."""
    out = []
    for record in catalog.list_compute_targets(local.conn):
        config = record.config
        out.append(ComputeListing(record.name, record.compute_type, record.vm_size,
                                 int(config.get("min_nodes") or 0), record.max_nodes,
                                 config.get(SOURCE_KEY, "registered by a script")))
    return out


def compute_names(local: OpenWorkspace) -> list[str]:
    """The names of the registered compute targets."""
    return [record.name for record in catalog.list_compute_targets(local.conn)]


def is_registered_datastore(local: OpenWorkspace, name: str) -> bool:
    """Whether datastore `name` is in the catalog."""
    return catalog.get_datastore(local.conn, name) is not None


def datastore_names(local: OpenWorkspace) -> list[str]:
    """The names of the registered datastores."""
    return [record.name for record in catalog.list_datastores(local.conn)]


def list_datastores(local: OpenWorkspace) -> list[DatastoreListing]:
    """Every registered datastore, by name."""
    return [DatastoreListing(d.name, d.datastore_type, d.is_default, local.layout.datastore_dir(d.name),
                            d.config.get(SOURCE_KEY, "every workspace has it"
                                         if d.name in DEFAULT_DATASTORES else "registered by a script"))
            for d in catalog.list_datastores(local.conn)]


def adopt_datastore_folders(local: OpenWorkspace) -> list[str]:
    """Register each folder under `datastores/` that is not registered yet (as a blob store).

    A link there is not adopted: amlocal never follows a link into or out of a datastore.
    """
    root = local.layout.datastores_dir
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    known = set(datastore_names(local))
    adopted = []
    for entry in entries:
        if entry.name in known or entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        config = {"container_name": entry.name, "account_name": "local",
                  SOURCE_KEY: "a folder in .amlocal/datastores"}
        if catalog.register_datastore(local.conn, entry.name, "AzureBlob", config, overwrite=False):
            adopted.append(entry.name)
    return adopted


def register_datastore(local: OpenWorkspace, datastore: DeclaredDatastore, source: str) -> SeedResult:
    """Register `datastore` (if it is not yet) with its folder, and seed it once from its
    `seed_from` folder: files already there are kept, and a folder seeds a datastore only once."""
    check_name(datastore.name, what="datastore name")
    record = catalog.get_datastore(local.conn, datastore.name)
    config = dict(record.config) if record is not None else {
        "container_name": datastore.container_name or datastore.name,
        "account_name": datastore.account_name or "local", SOURCE_KEY: source}
    if record is None or record.datastore_type != datastore.type:
        catalog.register_datastore(local.conn, datastore.name, datastore.type, config,
                                   overwrite=True)
    folder = local.layout.datastore_dir(datastore.name)
    folder.mkdir(parents=True, exist_ok=True)
    if datastore.seed_from is None or config.get("seeded_from") == str(datastore.seed_from):
        return SeedResult(0, 0)
    result = seed_datastore(folder, datastore.seed_from)
    config["seeded_from"] = str(datastore.seed_from)
    catalog.register_datastore(local.conn, datastore.name, datastore.type, config, overwrite=True)
    return result


def seed_datastore(folder: Path, source: Path) -> SeedResult:
    """Copy the files below `source` into the datastore folder `folder`, never replacing one.

    The datastore may hold links a step wrote: every target is resolved inside the datastore,
    and files are created new (never opened through a link).
    """
    copied = skipped = 0
    for dirpath, dirs, files in os.walk(source, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            src = Path(dirpath) / name
            rel = src.relative_to(source).as_posix()
            try:
                target = resolve_in_datastore(folder, rel, what="seed file")
            except UnsafePathError:
                skipped += 1
                continue
            data = open_datastore_file(src)
            if data is None:  # a link, FIFO or device: not a file to copy
                skipped += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            except FileExistsError:
                data.close()
                skipped += 1
                continue
            with data, os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(data, out)
            copied += 1
    return SeedResult(copied, skipped)
