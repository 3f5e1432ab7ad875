"""`Module`: a named, versioned step definition that pipelines reuse through `ModuleStep`.

Publishing a version snapshots its source directory, so later edits to the folder do not
change what the version runs.
"""
from __future__ import annotations

import os
from typing import Any

from runner.sdk.pipeline_data import PipelineParameter
from store import catalog
from store.records import ModuleRecord
from store.snapshots import SnapshotStore


class InputPortDef:
    """An input port of a module: its name and how data is delivered."""

    def __init__(self, name: str, data_types: list | None = None,
                 default_datastore_mode: str = "mount", default_path_on_compute: str | None = None,
                 is_optional: bool = False, default_overwrite: bool | None = None,
                 label: str | None = None, is_resource: bool = False) -> None:
        self.name = name
        self.default_datastore_mode = default_datastore_mode
        self.default_path_on_compute = default_path_on_compute
        self.is_optional = is_optional


class OutputPortDef:
    """An output port of a module."""

    def __init__(self, name: str, default_datastore_name: str | None = None,
                 default_datastore_mode: str = "mount", default_path_on_compute: str | None = None,
                 is_directory: bool = True, data_type: str | None = None,
                 default_overwrite: bool | None = None, training_output: Any = None,
                 label: str | None = None) -> None:
        self.name = name
        self.default_datastore_name = default_datastore_name
        self.default_datastore_mode = default_datastore_mode


class ModuleVersion:
    """One published version of a module."""

    def __init__(self, module_name: str, version: str, definition: dict) -> None:
        self.module_name = module_name
        self.version = version
        self.definition = definition

    def __repr__(self) -> str:
        return f"ModuleVersion({self.module_name} {self.version})"


class Module:
    """A module of the workspace and its versions."""

    def __init__(self, workspace: Any, module_id: str, name: str, description: str | None,
                 status: str, default_version: str | None, module_version_list: list,
                 _module_provider: Any = None, _module_version_provider: Any = None) -> None:
        self._workspace = workspace
        self._id = module_id
        self._name = name
        self._description = description
        self._status = status
        self._default_version = default_version
        self._versions = module_version_list

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def default_version(self) -> str | None:
        return self._default_version

    @staticmethod
    def _from_record(workspace: Any, record: ModuleRecord) -> "Module":
        versions = [ModuleVersion(record.name, v.version, dict(v.definition)) for v in record.versions]
        return Module(workspace, record.id, record.name, record.description, record.status,
                      record.default_version, versions)

    @staticmethod
    def create(workspace: Any, name: str, description: str | None) -> "Module":
        """Create (or return the existing) module `name`."""
        module_id = catalog.create_module(workspace._local.conn, name, description)
        return Module._from_record(workspace, catalog.get_module(workspace._local.conn, module_id, None))

    @staticmethod
    def get(workspace: Any, module_id: str | None = None, name: str | None = None) -> "Module":
        """The module with this id or name."""
        if module_id is None and name is None:
            raise ValueError("give module_id or name")
        return Module._from_record(workspace, catalog.get_module(workspace._local.conn, module_id, name))

    def module_version_list(self) -> list[ModuleVersion]:
        return list(self._versions)

    def publish_python_script(self, script_name: str, description: str, inputs: list,
                              outputs: list, params: dict | None = None,
                              create_sequencing_ports: bool = True, version: str | None = None,
                              is_default: bool = False, source_directory: str | None = None,
                              hash_paths: list | None = None, category: str | None = None,
                              arguments: list | None = None, runconfig: Any = None) -> ModuleVersion:
        """Publish a version that runs `script_name`; its source directory is snapshotted now."""
        source = os.path.abspath(source_directory or os.getcwd())
        if not os.path.isfile(os.path.join(source, script_name)):
            raise ValueError(f"Module {self._name}: script not found at: "
                             f"{os.path.join(source, script_name)}")
        version = version or str(len(self._versions) + 1)
        if any(v.version == version for v in self._versions):
            raise ValueError(f"Module {self._name} already has a version {version}")
        local = self._workspace._local
        snapshot = SnapshotStore(local.layout.snapshots_dir, local.conn).take(
            source, exclude=(local.layout.root,))
        in_names = {p.name for p in inputs}
        out_names = {p.name for p in outputs}
        tokens = []
        for arg in arguments or []:
            if isinstance(arg, InputPortDef):
                tokens.append({"input": arg.name})
            elif isinstance(arg, OutputPortDef):
                tokens.append({"output": arg.name})
            elif isinstance(arg, PipelineParameter):
                raise ValueError("module arguments take literals and ports; pass pipeline "
                                 "parameters through the ModuleStep's params")
            else:
                tokens.append({"literal": str(arg)})
        definition = {"script_name": script_name, "snapshot_id": snapshot.id,
                      "inputs": sorted(in_names), "outputs": sorted(out_names),
                      "params": {k: str(v) for k, v in (params or {}).items()},
                      "arguments": tokens, "description": description,
                      "runconfig": runconfig._to_spec().to_json() if runconfig is not None else None}
        catalog.add_module_version(local.conn, self._id, version, definition, is_default)
        refreshed = Module.get(self._workspace, self._id)
        self._versions, self._default_version = refreshed._versions, refreshed._default_version
        return self.resolve(version)

    def resolve(self, version: str | None = None) -> ModuleVersion:
        """The version to run: `version`, else the default version."""
        wanted = version or self._default_version
        for v in self._versions:
            if v.version == wanted:
                return v
        raise ValueError(f"Module {self._name} has no version {wanted!r} "
                         f"(versions: {', '.join(v.version for v in self._versions) or 'none'})")

    def get_default_version(self) -> str | None:
        return self._default_version

    def get_default(self) -> ModuleVersion:
        return self.resolve(None)
