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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from runner.engine import asset_registry
from runner.engine.dataset_selection import needs_selection
from runner.executors.base import Mount
from runner.spec import StepSpec
from runner.step_runtime import contract
from runner.step_runtime.exceptions import UserErrorException
from store import registry
from store.datastore_paths import resolve_in_datastore
from store.layout import StepRunFiles, WorkspaceLayout
from store.nofollow import UnsafeFileError
from store.records import AssetRecord, StoredOutput


@dataclass
class RegistryAssets:
    """The registered versions a step can see, read from the database before it starts."""

    datasets: list[AssetRecord] = field(default_factory=list)
    models: list[AssetRecord] = field(default_factory=list)
    environments: list[AssetRecord] = field(default_factory=list)
    by_id: dict[str, AssetRecord] = field(default_factory=dict)

    @staticmethod
    def load(conn: sqlite3.Connection) -> "RegistryAssets":
        assets = RegistryAssets(registry.list_versions(conn, "dataset"),
                                registry.list_versions(conn, "model"),
                                registry.list_versions(conn, "environment"))
        assets.by_id = {a.id: a for a in (*assets.datasets, *assets.models, *assets.environments)}
        return assets


def _entry(record: AssetRecord, kind: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "id": record.id, "name": record.name, "version": record.version,
            "description": record.description, "tags": dict(record.tags),
            "properties": dict(record.properties), "definition": dict(record.definition),
            "created_at": record.created_at, "made_by_step_run_id": record.made_by_step_run_id,
            "made_by_pipeline_run_id": record.made_by_pipeline_run_id, **extra}


def _glob_base(path: str) -> str:
    parts = path.split("/") if path else []
    for i, part in enumerate(parts):
        if set("*?[") & set(part):
            return "/".join(parts[:i])
    return path


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
                                            _glob_base(source.get("path") or ""))
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


def apply_registrations(conn: sqlite3.Connection, layout: WorkspaceLayout, files: StepRunFiles,
                        step_run_id: str, pipeline_run_id: str,
                        registrations: list[dict[str, Any]]) -> str | None:
    """Register what a step that succeeded asked for; returns why the step fails instead
    when one cannot be (each is applied or refused on its own)."""
    problems = []
    made_by = (step_run_id, pipeline_run_id)
    for item in registrations:
        try:
            if item.get("kind") == "dataset":
                asset_registry.register_dataset(
                    conn, layout, item["definition"], str(item["name"]), item.get("description"),
                    item.get("tags") or {}, bool(item.get("create_new_version")),
                    asset_id=item.get("id"), made_by=made_by)
            elif item.get("kind") == "model":
                stage = str(item.get("stage", ""))
                if not stage.isalnum():
                    raise UserErrorException("a model registration names no staged files")
                source = files.registrations / stage / posixpath.basename(str(item.get("path", "")))
                fields = {k: v for k, v in item.items()
                          if k not in ("kind", "name", "stage", "path")}
                asset_registry.register_model(conn, layout, str(item["name"]), source, fields,
                                              made_by=made_by, what="model_path")
        except (UserErrorException, UnsafeFileError, KeyError) as exc:
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
