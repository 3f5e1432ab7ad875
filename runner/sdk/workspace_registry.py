"""The registries as a script sees them: datasets, models and environments in the workspace
database (`workspace._registry()`), with the SDK's classes.

The same interface as a step's view (`runner.step_runtime.registry_view`), so the dataset and
model classes work alike in both: lookups, registration, and where a datastore's files are.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.engine import asset_registry
from runner.step_runtime.exceptions import UserErrorException
from store import registry
from store.errors import NotFoundError
from store.records import AssetRecord
from store.workspace import OpenWorkspace


def registration_of(record: AssetRecord) -> dict[str, Any]:
    """What a dataset or model object keeps of its registered version."""
    return {"kind": record.kind, "id": record.id, "name": record.name, "version": record.version,
            "description": record.description, "tags": dict(record.tags),
            "properties": dict(record.properties), "definition": dict(record.definition),
            "created_at": record.created_at, "made_by_step_run_id": record.made_by_step_run_id,
            "made_by_pipeline_run_id": record.made_by_pipeline_run_id}


class HostRegistry(asset_registry.LayoutRegistry):
    """The workspace database's registries, for the SDK in a script or notebook (datastore
    paths and folders as `LayoutRegistry` has them; the host SDK's dataset classes)."""

    def __init__(self, local: OpenWorkspace) -> None:
        super().__init__(local.layout)
        self._local = local

    @property
    def conn(self) -> Any:
        return self._local.conn

    # ----------------------------------------------------------------- datasets
    def dataset_class(self, kind: str) -> type:
        from runner.sdk.data import FileDataset
        from runner.sdk.tabular_dataset import TabularDataset
        return {"file": FileDataset, "tabular": TabularDataset}[kind]

    def _dataset_of(self, record: AssetRecord, workspace: Any) -> Any:
        return self.dataset_class(record.definition["kind"])._from_definition(
            dict(record.definition), workspace, registration_of(record))

    def dataset(self, name: str, version: int | None, workspace: Any) -> Any:
        try:
            record = registry.get_version(self.conn, "dataset", name, version)
        except NotFoundError:
            raise UserErrorException(
                f'Cannot find dataset registered with name "{name}"'
                f'{"" if version is None else f" (version: {version})"} in the workspace.') from None
        return self._dataset_of(record, workspace)

    def dataset_by_id(self, asset_id: str, workspace: Any) -> Any:
        try:
            record = registry.get_by_id(self.conn, asset_id)
        except NotFoundError:
            record = None
        if record is None or record.kind != "dataset":
            raise UserErrorException(f'Cannot find dataset with id "{asset_id}" in the workspace.')
        return self._dataset_of(record, workspace)

    def datasets(self, workspace: Any) -> dict[str, Any]:
        return {r.name: self._dataset_of(r, workspace)
                for r in registry.list_versions(self.conn, "dataset", latest_only=True)}

    def register_dataset(self, definition: dict[str, Any], name: str, description: str | None,
                         tags: dict, create_new_version: bool) -> dict[str, Any]:
        return registration_of(asset_registry.register_dataset(
            self.conn, self.layout, definition, name, description, tags, create_new_version))

    def update_dataset(self, asset_id: str, description: str | None,
                       tags: dict | None) -> dict[str, Any]:
        return registration_of(registry.update_asset(self.conn, asset_id, description=description,
                                                     tags=tags))

    # ----------------------------------------------------------------- models
    def models(self) -> list[dict[str, Any]]:
        return [registration_of(r) for r in registry.list_versions(self.conn, "model")]

    def model(self, name: str, version: int | None) -> dict[str, Any] | None:
        record = registry.find_version(self.conn, "model", name, version)
        return registration_of(record) if record else None

    def model_by_id(self, model_id: str) -> dict[str, Any] | None:
        try:
            record = registry.get_by_id(self.conn, model_id)
        except NotFoundError:
            return None
        return registration_of(record) if record.kind == "model" else None

    def register_model(self, name: str, source: str, fields: dict[str, Any],
                       made_by: tuple[str, str] | None = None) -> dict[str, Any]:
        return registration_of(asset_registry.register_model(
            self.conn, self.layout, name, Path(source).absolute(), fields, made_by=made_by))

    def update_model(self, model_id: str, description: str | None, tags: dict | None,
                     properties: dict | None) -> dict[str, Any]:
        return registration_of(registry.update_asset(self.conn, model_id, description=description,
                                                     tags=tags, properties=properties))

    def delete_model(self, model_id: str) -> None:
        import shutil
        record = registry.get_by_id(self.conn, model_id)
        registry.delete_asset(self.conn, model_id)
        shutil.rmtree(asset_registry.model_folder(self.layout, record), ignore_errors=True)

    def model_folder(self, asset: dict[str, Any]) -> Path:
        return self.layout.models_dir / asset["name"] / str(asset["version"])

    def note_use(self, asset: dict[str, Any]) -> None:
        """A script's reads are not step runs: nothing to record."""
