"""Registering datasets and models in the workspace, with the SDK's rules, for a script (the
host SDK) and for a step (its registrations, applied by the runner when it succeeds).

A dataset version pins the content it saw: the sha256 of each of its files, so reuse and `why`
can say what changed since. A model version's files are copied into
`.amlocal/models/<name>/<version>/`, never through a link.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Mapping

from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.tabular_read import check_read_options
from store import registry
from store.content import hash_files
from store.datastore_paths import check_name, normalize_datastore_path, resolve_in_datastore
from store.errors import UnsafePathError
from store.layout import WorkspaceLayout
from store.nofollow import copy_tree, open_file
from store.records import AssetRecord


class LayoutRegistry:
    """Datastore folders of a workspace layout, for listing a dataset's files on the host."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout

    def normalize_path(self, path: str | None) -> str:
        return normalize_datastore_path(path)

    def datastore_folder(self, name: str) -> Path:
        return self.layout.datastore_dir(name)

    def dataset_class(self, kind: str) -> type:
        from runner.step_runtime.file_dataset import FileDataset
        from runner.step_runtime.tabular_dataset import TabularDataset
        return {"file": FileDataset, "tabular": TabularDataset}[kind]


class _LayoutWorkspace:
    """A workspace stand-in whose registry is a LayoutRegistry."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self._layout_registry = LayoutRegistry(layout)

    def _registry(self) -> LayoutRegistry:
        return self._layout_registry


def layout_dataset(layout: WorkspaceLayout, definition: Mapping[str, Any]) -> Any:
    """The dataset `definition` describes, over `layout`'s datastore folders (the step-side
    classes: enough to list its files on the host)."""
    workspace = _LayoutWorkspace(layout)
    return workspace._registry().dataset_class(definition["kind"])._from_definition(
        dict(definition), workspace)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with os.fdopen(open_file(path, "dataset file"), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_content(conn: sqlite3.Connection, layout: WorkspaceLayout,
                    definition: Mapping[str, Any]) -> dict[str, str]:
    """`datastore:path` → sha256 of each file `definition` selects now (hashes of unchanged
    files come from the stat cache)."""
    dataset = layout_dataset(layout, definition)
    files = []
    for f in dataset._selected_files():
        try:  # never through a link a step wrote into the datastore
            inside = resolve_in_datastore(layout.datastore_dir(str(f.datastore)),
                                          f.path_on_datastore, what="dataset file")
        except UnsafePathError:
            continue
        files.append((f"{f.datastore}:{f.path_on_datastore}", str(inside), os.lstat(inside)))
    return {h.rel: h.sha256 for h in hash_files(conn, layout.datastores_dir, files, _sha256)}


def content_changes(pinned: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The files added, removed or changed between two pinned contents, sorted."""
    return sorted(k for k in set(pinned) | set(now) if pinned.get(k) != now.get(k))


def checked_definition(layout: WorkspaceLayout, definition: Mapping[str, Any]) -> dict[str, Any]:
    """`definition` if it is one a workspace can register (its datastores exist here, its
    paths stay inside them: a step's event may name anything), else a UserErrorException."""
    if not isinstance(definition, Mapping) or definition.get("kind") not in ("file", "tabular"):
        raise UserErrorException("a dataset definition must be of a FileDataset or a TabularDataset")
    sources = definition.get("sources")
    if not isinstance(sources, list) or not sources:
        raise UserErrorException("a dataset must name at least one (datastore, path)")
    for source in sources:
        if not isinstance(source, Mapping) or source.get("folder") is not None:
            raise UserErrorException("only a dataset on datastore paths can be registered; this "
                                     "one is in a local folder (upload its files to a datastore "
                                     "first)")
        name = check_name(str(source.get("datastore")), what="datastore name")
        if not layout.datastore_dir(name).is_dir():
            raise UserErrorException(f"datastore {name} does not exist in this workspace")
        normalize_datastore_path(source.get("path"))
    if definition.get("kind") == "tabular":
        check_read_options(dict(definition.get("read") or {}))
    return dict(definition)


def register_dataset(conn: sqlite3.Connection, layout: WorkspaceLayout,
                     definition: Mapping[str, Any], name: str, description: str | None,
                     tags: Mapping[str, Any], create_new_version: bool, *,
                     asset_id: str | None = None, made_by: tuple[str, str] | None = None
                     ) -> AssetRecord:
    """Register `definition` as dataset `name`, as the SDK's service does: a new name is
    version 1; an existing name is refused without `create_new_version`; with it, the same
    definition as the latest version returns that version, another one makes a new version."""
    definition = checked_definition(layout, definition)
    latest = registry.find_version(conn, "dataset", name)
    if latest is not None:
        if not create_new_version:
            raise UserErrorException(
                f'There is already a dataset registered under name "{name}". Specify '
                "`create_new_version=True` to register the dataset as a new version. Use "
                "`update`, `add_tags`, or `remove_tags` to change only the description or tags.")
        if dict(latest.definition) == dict(definition):
            return latest
    step_run, pipeline_run = made_by or (None, None)
    return registry.add_version(conn, "dataset", name, definition,
                                content=dataset_content(conn, layout, definition),
                                description=description, tags=tags, asset_id=asset_id,
                                made_by_step_run_id=step_run, made_by_pipeline_run_id=pipeline_run)


def _model_files(root: Path) -> dict[str, str]:
    out = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            full = os.path.join(folder, name)
            if not os.path.islink(full):
                out[os.path.relpath(full, root)] = _sha256(full)
    return out


def register_model(conn: sqlite3.Connection, layout: WorkspaceLayout, name: str, source: Path,
                   fields: Mapping[str, Any], *, made_by: tuple[str, str] | None = None,
                   what: str = "model_path") -> AssetRecord:
    """Copy the file or folder `source` into the models folder and register it as the next
    version of model `name`. `fields` holds tags, properties, description and the definition's
    extras (framework, datasets, …)."""
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9\-._]{0,254}", name):
        raise UserErrorException(f"model name {name!r} is invalid (letters, numbers, dashes, "
                                 "periods or underscores, starting with a letter or number)")
    if not os.path.lexists(source):
        raise UserErrorException(f"{what} {source} does not exist")
    if os.path.islink(source):
        raise UserErrorException(f"{what} {source} is a link; register the file it points to")
    latest = registry.find_version(conn, "model", name)
    version = (latest.version + 1) if latest else 1
    folder = layout.models_dir / name / str(version)
    if folder.exists():  # left by a registration that failed half-way
        import shutil
        shutil.rmtree(folder)
    layout.models_dir.mkdir(parents=True, exist_ok=True)
    copy_tree(source, layout.models_dir, f"{name}/{version}/{source.name}", what)
    definition = {"path": source.name, **{k: v for k, v in fields.items()
                                          if k not in ("tags", "properties", "description")}}
    step_run, pipeline_run = made_by or (None, None)
    return registry.add_version(conn, "model", name, definition,
                                content=_model_files(folder), description=fields.get("description"),
                                tags=fields.get("tags") or {},
                                properties=fields.get("properties") or {},
                                asset_id=f"{name}:{version}", made_by_step_run_id=step_run,
                                made_by_pipeline_run_id=pipeline_run)


def model_folder(layout: WorkspaceLayout, record: AssetRecord) -> Path:
    """The folder holding a model version's files."""
    return layout.models_dir / record.name / str(record.version)
