"""What a step sees of the registries, and what it registered.

Before a step starts, the runner writes its view (`registry.json`, read by
`runner.step_runtime.registry_view`): where each datastore of a registered dataset or of a
dataset input is, every registered dataset, model and environment version, and the
definitions of its direct-mode dataset inputs. In a container the folders those name are
mounted read-only, the models folder too, and a staging folder for the model files it
registers read-write. When the step succeeds, its registrations are applied here; a step that
failed registers nothing.
"""
from __future__ import annotations

import copy
import json
import posixpath
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from runner.engine import asset_registry
from runner.engine.dataset_selection import needs_selection
from runner.executors.base import Mount
from runner.spec import StepSpec
from runner.step_runtime import contract
from runner.step_runtime.dataset_factory import glob_folder
from runner.step_runtime.exceptions import AzureMLException, UserErrorException
from runner.step_runtime.model import check_model_name
from store import registry
from store.catalog import default_datastore_name
from store.datastore_paths import resolve_in_datastore
from store.layout import StepRunFiles, WorkspaceLayout
from store.errors import StoreError
from store.nofollow import UnsafeFileError
from store.records import AssetRecord, StoredOutput


@dataclass
class RegistryAssets:
    """The registered versions a step can see, read from the database before it starts."""

    datasets: list[AssetRecord] = field(default_factory=list)
    models: list[AssetRecord] = field(default_factory=list)
    environments: list[AssetRecord] = field(default_factory=list)
    by_id: dict[str, AssetRecord] = field(default_factory=dict)
    default_datastore: str = "workspaceblobstore"

    @staticmethod
    def load(conn: sqlite3.Connection) -> "RegistryAssets":
        assets = RegistryAssets(registry.list_versions(conn, "dataset"),
                                registry.list_versions(conn, "model"),
                                registry.list_versions(conn, "environment"),
                                default_datastore=default_datastore_name(conn))
        assets.by_id = {a.id: a for a in (*assets.datasets, *assets.models, *assets.environments)}
        return assets


def environment_asset(assets: RegistryAssets, step: StepSpec) -> AssetRecord | None:
    """The registered environment version `step` runs in (same name and definition), if any:
    the newest that matches, as `Environment.get` would have given it."""
    wanted = json.loads(json.dumps(step.environment.to_json(), sort_keys=True))
    for record in assets.environments:  # newest first within a name
        if record.name == step.environment.name and record.definition.get("spec") == wanted:
            return record
    return None


def _entry(record: AssetRecord, kind: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "id": record.id, "name": record.name, "version": record.version,
            "description": record.description, "tags": dict(record.tags),
            "properties": dict(record.properties), "definition": dict(record.definition),
            "created_at": record.created_at, "made_by_step_run_id": record.made_by_step_run_id,
            "made_by_pipeline_run_id": record.made_by_pipeline_run_id, **extra}


def _input_definition(definition: dict[str, Any], host: Path, seen: str) -> dict[str, Any]:
    """A dataset input's definition as the step sees it: over the folder (or file) it got,
    without the selection it already had applied."""
    out = copy.deepcopy(definition)
    sources = definition.get("sources") or []
    if host.is_file():
        out["sources"] = [{"folder": posixpath.dirname(seen), "path": host.name}]
    elif len(sources) == 1 and not sources[0].get("datastore") and sources[0].get("folder") is None:
        # a step output read as a dataset: its template's path is a glob below the folder
        out["sources"] = [{"folder": seen, "path": sources[0].get("path") or ""}]
        return out
    else:
        out["sources"] = [{"folder": seen, "path": ""}]
    if needs_selection(definition):
        out["filter"] = None
        if definition["kind"] == "file":
            out["transforms"] = []
    return out


def prepare_view(layout: WorkspaceLayout, assets: RegistryAssets, step: StepSpec,
                 files: StepRunFiles, map_path: Callable[[Path], str],
                 input_paths: dict[str, tuple[Path, str]]) -> tuple[list[Mount], dict[str, str]]:
    """Write the step's view; returns the mounts and environment variables that go with it.
    `input_paths` gives each input port's host path and the path the step sees."""
    mounts: list[Mount] = []
    datastores: dict[str, str] = {}
    mounted: set[Path] = set()
    for record in assets.datasets:
        for source in record.definition.get("sources", []):
            name = source.get("datastore")
            if not name or not layout.datastore_dir(name).is_dir():
                continue
            datastores[name] = map_path(layout.datastore_dir(name))
            try:
                base = resolve_in_datastore(layout.datastore_dir(name),
                                            glob_folder(source.get("path") or ""))
            except Exception:
                continue
            if base.exists() and not base.is_symlink() and base not in mounted:
                mounts.append(Mount(base, read_only=True))
                mounted.add(base)
    inputs: dict[str, Any] = {}
    for inp in step.inputs:
        view = inp.dataset_view
        if view is None or not view.get("direct") or inp.dataset is None:
            continue
        host, seen = input_paths[inp.port]
        record = assets.by_id.get(view.get("asset_id") or "")
        inputs[inp.dataset] = {
            "definition": _input_definition(dict(view["definition"]), host, seen),
            "registration": _entry(record, "datasets") if record else None}
    models_dir = layout.models_dir
    if assets.models and models_dir.is_dir():
        mounts.append(Mount(models_dir, read_only=True))
    view_json = {
        "default_datastore": assets.default_datastore,
        "datastores": datastores,
        "datasets": [_entry(r, "datasets") for r in assets.datasets],
        "models": [_entry(r, "models", folder=map_path(models_dir / r.name / str(r.version)))
                   for r in assets.models],
        "environments": [_entry(r, "environments") for r in assets.environments],
        "inputs": inputs}
    files.registry_view.write_text(json.dumps(view_json))
    files.registrations.mkdir(exist_ok=True)
    mounts += [Mount(files.registry_view, read_only=True), Mount(files.registrations, read_only=False)]
    env = {contract.REGISTRY_FILE: map_path(files.registry_view),
           contract.REGISTRATIONS_DIR: map_path(files.registrations)}
    return mounts, env


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _tags(value: Any) -> dict[str, str]:
    """A step's tags or properties as strings (anything else is dropped)."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


_REFUSED = (AzureMLException, UnsafeFileError, StoreError, KeyError, TypeError, ValueError)


def _check(conn: sqlite3.Connection, layout: WorkspaceLayout, files: StepRunFiles,
           item: dict[str, Any]) -> None:
    """Raise why `item` (one registration a step asked for) cannot be applied."""
    if item.get("kind") == "dataset":
        asset_registry.checked_definition(layout, item["definition"])
        latest = registry.find_version(conn, "dataset", str(item["name"]))
        if latest is not None and not item.get("create_new_version"):
            asset_registry.register_dataset(conn, layout, item["definition"], str(item["name"]),
                                            None, {}, False)  # raises the SDK's message
    elif item.get("kind") == "model":
        check_model_name(str(item.get("name")))
        source = _staged(files, item)
        if not source.exists() or source.is_symlink():
            raise UserErrorException(f"model_path {item.get('path')} was not staged")
    else:
        raise UserErrorException(f"unknown registration {item.get('kind')!r}")


def _staged(files: StepRunFiles, item: dict[str, Any]) -> Path:
    stage = str(item.get("stage", ""))
    if not stage.isalnum():
        raise UserErrorException("a model registration names no staged files")
    return files.registrations / stage / posixpath.basename(str(item.get("path", "")))


def _apply(conn: sqlite3.Connection, layout: WorkspaceLayout, files: StepRunFiles,
           item: dict[str, Any], made_by: tuple[str, str]) -> None:
    if item.get("kind") == "dataset":
        asked = str(item.get("id") or "")
        asset_id = asked if _is_uuid(asked) and registry.find_by_id(conn, asked) is None \
            else None  # the step's own id, unless it is not one or is taken
        asset_registry.register_dataset(
            conn, layout, item["definition"], str(item["name"]), _text(item.get("description")),
            _tags(item.get("tags")), bool(item.get("create_new_version")),
            asset_id=asset_id, made_by=made_by)
        return
    fields = {"tags": _tags(item.get("tags")), "properties": _tags(item.get("properties")),
              "description": _text(item.get("description")),
              "framework": _text(item.get("framework")),
              "framework_version": _text(item.get("framework_version")),
              "datasets": [[str(a), str(b)] for a, b in item.get("datasets") or []]}
    asset_registry.register_model(conn, layout, str(item["name"]), _staged(files, item), fields,
                                  made_by=made_by, what="model_path")


def apply_registrations(conn: sqlite3.Connection, layout: WorkspaceLayout, files: StepRunFiles,
                        step_run_id: str, pipeline_run_id: str,
                        registrations: list[dict[str, Any]]) -> str | None:
    """Register what a step that succeeded asked for, all or nothing: returns why the step
    fails instead when any of them cannot be (and then none is registered)."""
    problems = []
    for item in registrations:
        try:
            _check(conn, layout, files, item)
        except _REFUSED as exc:
            problems.append(f"registering {item.get('kind')} {item.get('name')}: {exc}")
    if problems:
        return "; ".join(problems)
    for item in registrations:
        try:
            _apply(conn, layout, files, item, (step_run_id, pipeline_run_id))
        except _REFUSED as exc:  # changed since it was checked (another run registered)
            problems.append(f"registering {item.get('kind')} {item.get('name')}: {exc}")
    return "; ".join(problems) or None


def output_definition(template: dict[str, Any], datastore: str, path: str) -> dict[str, Any]:
    """The dataset an output's template (see `OutputSpec.register`) is over the datastore path
    the output was written to: its glob, if any, below that path."""
    out = copy.deepcopy(dict(template))
    sources = out.get("sources") or [{"path": ""}]
    below = (sources[0].get("path") or "").strip("/")
    out["sources"] = [{"datastore": datastore,
                       "path": "/".join(p for p in (path.strip("/"), below) if p)}]
    return out


def register_outputs(conn: sqlite3.Connection, layout: WorkspaceLayout, step: StepSpec,
                     outputs: Mapping[str, StoredOutput], made_by: tuple[str, str]) -> str | None:
    """Register the outputs of a step that succeeded that ask for it (`register_on_complete`,
    `as_dataset().register`), each as a new version of its dataset made by the step run;
    returns why the step fails instead when one cannot be."""
    problems = []
    for out in step.outputs:
        stored = outputs.get(out.port)
        if out.register is None or stored is None:
            continue
        item = dict(out.register)
        try:
            definition = output_definition(item["dataset"], stored.datastore, stored.path)
            asset_registry.register_dataset(
                conn, layout, definition, str(item["name"]), item.get("description"),
                item.get("tags") or {}, bool(item.get("create_new_version", True)),
                made_by=made_by)
        except (UserErrorException, UnsafeFileError, KeyError) as exc:
            problems.append(f"registering output {out.port} as dataset {item.get('name')}: {exc}")
    return "; ".join(problems) or None
