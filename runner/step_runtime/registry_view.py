"""The registries as a step sees them: read from the view the runner wrote before the step
started (`registry.json`: datastore folders, registered datasets, models and environments,
the step's dataset inputs), and written through the step's event file.

A step cannot open the workspace database (in a container it cannot even see it), so a
registration made in a step (`Model.register`, `run.register_model`, `dataset.register`) is
an event: the runner applies it when the step succeeds, and a failed step registers nothing.
Files a step registers are copied, when it calls, into its staging folder. What the step reads
by name is an event too, so lineage knows which versions the step used. Standard library only.
"""
from __future__ import annotations

import json
import os
import posixpath
import shutil
import uuid
from pathlib import Path
from typing import Any

from runner.step_runtime import contract
from runner.step_runtime.events import shared_writer
from runner.step_runtime.exceptions import UserErrorException

_views: dict[str, "StepRegistry"] = {}


def step_registry() -> "StepRegistry":
    """The registry view of the step this process runs in (read once)."""
    path = os.environ.get(contract.REGISTRY_FILE, "")
    if path not in _views:
        _views[path] = StepRegistry(path)
    return _views[path]


def _cannot(call: str) -> UserErrorException:
    return UserErrorException(f"{call} is not available inside a step: do it in the pipeline "
                              "script, or pass what the step needs as an input")


class StepRegistry:
    """Lookups against the step's registry view; registrations and uses as events."""

    def __init__(self, path: str) -> None:
        self._path = path
        view: dict[str, Any] = {}
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                view = json.load(f)
        self._view = view
        self._pending: list[dict[str, Any]] = []  # what this step registered, for its own lookups

    # ----------------------------------------------------------------- plumbing
    def _emit(self, kind: str, name: str, value: Any) -> None:
        events = os.environ.get(contract.EVENTS_FILE)
        if not events:
            raise UserErrorException("registering from a step needs the step's run "
                                     "(Run.get_context() inside a submitted step)")
        writer = shared_writer(events)
        writer.write(os.environ.get(contract.RUN_ID, ""), kind, name, value)
        writer.flush()

    def _assets(self, kind: str) -> list[dict[str, Any]]:
        return [*self._view.get(kind, []), *(a for a in self._pending if a["kind"] == kind)]

    def _find(self, kind: str, name: str, version: int | None) -> dict[str, Any] | None:
        versions = [a for a in self._assets(kind) if a["name"] == name]
        if version is not None:
            versions = [a for a in versions if a["version"] == version]
        return max(versions, key=lambda a: a["version"]) if versions else None

    def note_use(self, asset: dict[str, Any]) -> None:
        """Record that the step read `asset` (once per step)."""
        if asset.get("pending"):
            return
        try:
            self._emit("asset_use", asset["kind"], asset["id"])
        except UserErrorException:
            pass  # not in a submitted step: nothing to record

    def normalize_path(self, path: str | None) -> str:
        """A datastore path as a clean relative path; one that leaves the datastore is refused."""
        clean = posixpath.normpath((path or "").replace("\\", "/")).lstrip("/")
        if clean == ".":
            return ""
        if clean == ".." or clean.startswith("../"):
            raise UserErrorException(f"path {path!r} leaves its datastore")
        return clean

    def datastore_folder(self, name: str) -> Path:
        """Where datastore `name`'s files are seen from this step."""
        folders = self._view.get("datastores", {})
        if name not in folders:
            raise UserErrorException(
                f"datastore {name} is not visible from this step: only datastores that hold "
                "registered datasets or the step's inputs are")
        return Path(folders[name])

    def default_datastore(self) -> str:
        """The workspace's default datastore's name."""
        return str(self._view.get("default_datastore") or "workspaceblobstore")

    def datastore_names(self) -> list[str]:
        """The datastores this step can see."""
        return sorted(self._view.get("datastores", {}))

    # ----------------------------------------------------------------- datasets
    def dataset_class(self, kind: str) -> type:
        from runner.step_runtime.file_dataset import FileDataset
        from runner.step_runtime.tabular_dataset import TabularDataset
        return {"file": FileDataset, "tabular": TabularDataset}[kind]

    def _dataset_of(self, asset: dict[str, Any], workspace: Any) -> Any:
        self.note_use(asset)
        return self.dataset_class(asset["definition"]["kind"])._from_definition(
            asset["definition"], workspace, asset)

    def dataset(self, name: str, version: int | None, workspace: Any) -> Any:
        """Registered dataset `name` at `version` (latest when None)."""
        asset = self._find("datasets", name, version)
        if asset is None:
            raise UserErrorException(
                f'Cannot find dataset registered with name "{name}"'
                f'{"" if version is None else f" (version: {version})"} in the workspace.')
        return self._dataset_of(asset, workspace)

    def dataset_by_id(self, asset_id: str, workspace: Any) -> Any:
        for asset in self._assets("datasets"):
            if asset["id"] == asset_id:
                return self._dataset_of(asset, workspace)
        raise UserErrorException(f'Cannot find dataset with id "{asset_id}" in the workspace.')

    def datasets(self, workspace: Any) -> dict[str, Any]:
        names = sorted({a["name"] for a in self._assets("datasets")})
        return {n: self.dataset(n, None, workspace) for n in names}

    def input_dataset(self, name: str, workspace: Any) -> Any | None:
        """The dataset object of the step's direct-mode input `name`, if it has one."""
        entry = self._view.get("inputs", {}).get(name)
        if entry is None:
            return None
        registration = entry.get("registration")
        return self.dataset_class(entry["definition"]["kind"])._from_definition(
            entry["definition"], workspace, registration)

    def register_dataset(self, definition: dict[str, Any], name: str, description: str | None,
                         tags: dict, create_new_version: bool) -> dict[str, Any]:
        """Ask the runner to register `definition` as `name` when the step succeeds."""
        if any(s.get("folder") for s in definition.get("sources", [])):
            raise UserErrorException("only a dataset on datastore paths can be registered from "
                                     "a step; write its files to a datastore (an output) first")
        latest = self._find("datasets", name, None)
        if latest is not None and not create_new_version:
            raise UserErrorException(
                f'There is already a dataset registered under name "{name}". Specify '
                "`create_new_version=True` to register the dataset as a new version. Use "
                "`update`, `add_tags`, or `remove_tags` to change only the description or tags.")
        asset = {"kind": "datasets", "id": str(uuid.uuid4()), "name": name,
                 "version": (latest["version"] + 1) if latest else 1, "description": description,
                 "tags": dict(tags), "definition": definition, "pending": True}
        self._emit("register", "dataset", {"id": asset["id"], "name": name,
                                           "definition": definition, "description": description,
                                           "tags": dict(tags),
                                           "create_new_version": create_new_version})
        self._pending.append(asset)
        return asset

    def update_dataset(self, asset_id: str, description: str | None, tags: dict | None) -> Any:
        raise _cannot("Updating a registered dataset")

    # ----------------------------------------------------------------- models
    def models(self) -> list[dict[str, Any]]:
        """Every registered model version this step can see."""
        return self._assets("models")

    def model(self, name: str, version: int | None) -> dict[str, Any] | None:
        asset = self._find("models", name, version)
        if asset is not None:
            self.note_use(asset)
        return asset

    def model_by_id(self, model_id: str) -> dict[str, Any] | None:
        name, _, version = model_id.rpartition(":")
        return self.model(name, int(version)) if version.isdigit() else None

    def register_model(self, name: str, source: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Copy `source` (a file or folder the step made) to the staging folder, and ask the
        runner to register it as model `name` when the step succeeds."""
        staging_root = os.environ.get(contract.REGISTRATIONS_DIR)
        if not staging_root:
            raise UserErrorException("registering a model from a step needs the step's run")
        src = Path(source)
        if not src.exists() or src.is_symlink():
            raise UserErrorException(f"model_path {source} does not exist (or is a link)")
        stage_id = uuid.uuid4().hex
        target = Path(staging_root) / stage_id / src.name
        target.parent.mkdir(parents=True)
        if src.is_dir():
            shutil.copytree(src, target, symlinks=True)
        else:
            shutil.copyfile(src, target)
        latest = self._find("models", name, None)
        version = (latest["version"] + 1) if latest else 1
        asset = {"kind": "models", "id": f"{name}:{version}", "name": name, "version": version,
                 "folder": str(target.parent), "pending": True, **fields,
                 "definition": {"path": src.name}}
        self._emit("register", "model", {"name": name, "stage": stage_id, "path": src.name,
                                         **fields})
        self._pending.append(asset)
        return asset

    def update_model(self, model_id: str, description: str | None, tags: dict | None,
                     properties: dict | None) -> dict[str, Any]:
        raise _cannot("Changing a registered model")

    def delete_model(self, model_id: str) -> None:
        raise _cannot("Deleting a registered model")

    def model_folder(self, asset: dict[str, Any]) -> Path:
        """Where a model version's files are seen from this step."""
        return Path(asset["folder"])

    # ----------------------------------------------------------------- environments
    def environments(self) -> list[dict[str, Any]]:
        return self._assets("environments")

    def environment(self, name: str, version: int | None) -> dict[str, Any] | None:
        return self._find("environments", name, version)

