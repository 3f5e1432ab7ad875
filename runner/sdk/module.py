"""`Module`: a named, versioned step definition that pipelines reuse through `ModuleStep`.

Publishing a version snapshots its source directory, so later edits to the folder do not
change what the version runs. Modules and versions can be disabled, deprecated and renamed as
in the SDK; the port definitions (`InputPortDef`, `OutputPortDef`) live in `module_ports`.
"""
from __future__ import annotations

import os
from typing import Any

from runner.sdk.module_ports import InputPortDef, OutputPortDef, port_definitions
from runner.sdk.pipeline_data import PipelineParameter
from store import catalog
from store import module_edits
from store.records import ModuleRecord
from store.snapshots import SnapshotStore

__all__ = ["InputPortDef", "Module", "ModuleVersion", "ModuleVersionDescriptor", "OutputPortDef"]


class ModuleVersionDescriptor:
    """A version number and the id of that ModuleVersion (`Module.module_version_list()`)."""

    def __init__(self, version: str, module_version_id: str) -> None:
        self._version = version
        self._module_version_id = module_version_id

    @property
    def version(self) -> str:
        return self._version

    @property
    def module_version_id(self) -> str:
        return self._module_version_id

    def __repr__(self) -> str:
        return f"ModuleVersionDescriptor(Version: {self._version}, Id: {self._module_version_id})"


class _Lifecycle:
    """Status and description changes shared by modules and their versions (the SDK's names)."""

    def _set(self, **fields: Any) -> None:
        raise NotImplementedError

    def set_description(self, description: str) -> None:
        self._set(description=description)

    def enable(self) -> None:
        self._set(status="Active")

    def disable(self) -> None:
        """Disabled: it cannot be used in a new ModuleStep."""
        self._set(status="Disabled")

    def deprecate(self) -> None:
        """Deprecated: still usable, with a warning when a ModuleStep picks it."""
        self._set(status="Deprecated")


class ModuleVersion(_Lifecycle):
    """One published version of a module: what it runs (`definition`) and its status."""

    def __init__(self, workspace: Any, module_entity: module_edits.ModuleVersionRecord,
                 version: str, _module_version_provider: Any = None) -> None:
        self._workspace = workspace
        self._entity = module_entity
        self._version = version

    @staticmethod
    def get(workspace: Any, module_version_id: str | None = None,
            _workflow_provider: Any = None) -> "ModuleVersion":
        """The module version with this id."""
        if module_version_id is None:
            raise ValueError("module_version_id is required")
        record = module_edits.get_module_version(workspace._local.conn, module_version_id)
        return ModuleVersion(workspace, record, record.version)

    @property
    def version(self) -> str:
        return self._version

    @property
    def module_version_id(self) -> str:
        return self._entity.id

    @property
    def module_id(self) -> str:
        return self._entity.module_id

    @property
    def definition(self) -> dict:
        """What this version runs: script, snapshot, ports, params, arguments, runconfig."""
        return self._entity.definition

    @property
    def module_name(self) -> str:
        return self.module().name

    @property
    def status(self) -> str:
        return self._entity.status

    @property
    def description(self) -> str | None:
        return self.definition.get("description")

    @property
    def category(self) -> str | None:
        return self.definition.get("category")

    @property
    def runconfig(self) -> dict | None:
        """The run configuration recorded with the version (as the step spec stores it)."""
        return self.definition.get("runconfig")

    @property
    def interface(self) -> dict:
        """The version's ports and parameters: {"inputs": …, "outputs": …, "parameters": …}."""
        d = self.definition
        return {"inputs": d.get("input_defs") or {n: {} for n in d.get("inputs", [])},
                "outputs": d.get("output_defs") or {n: {} for n in d.get("outputs", [])},
                "parameters": dict(d.get("params", {}))}

    def module(self, _workflow_provider: Any = None) -> "Module":
        """The module this version belongs to."""
        return Module.get(self._workspace, module_id=self.module_id)

    def _set(self, status: str | None = None, description: str | None = None) -> None:
        conn = self._workspace._local.conn
        module_edits.set_module_version_fields(conn, self.module_version_id, status=status,
                                               description=description)
        self._entity = module_edits.get_module_version(conn, self.module_version_id)

    def __repr__(self) -> str:
        return f"ModuleVersion({self.module_id} {self._version}, Status: {self.status})"


class Module(_Lifecycle):
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
    def status(self) -> str:
        return self._status

    @property
    def default_version(self) -> str | None:
        return self._default_version

    @staticmethod
    def _from_record(workspace: Any, record: ModuleRecord) -> "Module":
        versions = [ModuleVersion(workspace, version, version.version) for version in
                    module_edits.module_version_records(workspace._local.conn, record.id)]
        return Module(workspace, record.id, record.name, record.description, record.status,
                      record.default_version, versions)

    @staticmethod
    def create(workspace: Any, name: str, description: str | None,
               _workflow_provider: Any = None) -> "Module":
        """Create (or return the existing) module `name`."""
        module_id = catalog.create_module(workspace._local.conn, name, description)
        return Module._from_record(workspace, catalog.get_module(workspace._local.conn, module_id, None))

    @staticmethod
    def get(workspace: Any, module_id: str | None = None, name: str | None = None,
            _workflow_provider: Any = None) -> "Module":
        """The module with this id or name."""
        if module_id is None and name is None:
            raise ValueError("give module_id or name")
        return Module._from_record(workspace, catalog.get_module(workspace._local.conn, module_id, name))

    @staticmethod
    def get_versions(workspace: Any, name: str, _workflow_provider: Any = None) -> list[ModuleVersionDescriptor]:
        """The versions of module `name`."""
        return Module.get(workspace, name=name).module_version_list()

    @staticmethod
    def process_source_directory(name: str, source_directory: str, script_name: str) -> str:
        """`source_directory`, once `script_name` is found in it (else the SDK's ValueError)."""
        script = os.path.join(source_directory, script_name)
        if not os.path.isfile(script):
            raise ValueError(f"Step [{name}]: script not found at: {os.path.abspath(script)}. Make "
                             "sure to specify an appropriate source_directory on the Step or "
                             "default_source_directory on the Pipeline.")
        return source_directory

    def module_version_list(self) -> list[ModuleVersionDescriptor]:
        """The module's versions, oldest first."""
        return [ModuleVersionDescriptor(v.version, v.module_version_id) for v in self._versions]

    def _refresh(self) -> None:
        fresh = Module.get(self._workspace, self._id)
        self._name, self._description, self._status = fresh._name, fresh._description, fresh._status
        self._default_version, self._versions = fresh._default_version, fresh._versions

    def _set(self, **fields: Any) -> None:
        module_edits.set_module_fields(self._workspace._local.conn, self._id, **fields)
        self._refresh()

    def set_name(self, name: str) -> None:
        self._set(name=name)

    def set_default_version(self, version_id: str) -> None:
        """Make version `version_id` (a version number, as in the SDK) the default."""
        if version_id is None:
            raise Exception("No version was provided to be set as default")
        if not any(v.version == version_id for v in self._versions):
            raise Exception("provided version is not part of the module")
        self._set(default_version=version_id)

    def publish_python_script(self, script_name: str, description: str, inputs: list,
                              outputs: list, params: dict | None = None,
                              create_sequencing_ports: bool = True, version: str | None = None,
                              is_default: bool = False, source_directory: str | None = None,
                              hash_paths: list | None = None, category: str | None = None,
                              arguments: list | None = None, runconfig: Any = None) -> ModuleVersion:
        """Publish a version that runs `script_name`; its source directory is snapshotted now."""
        source = os.path.abspath(source_directory or os.getcwd())
        Module.process_source_directory(self._name, source, script_name)
        version = version or str(len(self._versions) + 1)
        if any(v.version == version for v in self._versions):
            raise ValueError(f"Module {self._name} already has a version {version}")
        local = self._workspace._local
        snapshot = SnapshotStore(local.layout.snapshots_dir, local.conn).take(
            source, exclude=(local.layout.root,))
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
                      "inputs": sorted(p.name for p in inputs),
                      "outputs": sorted(p.name for p in outputs),
                      **port_definitions(inputs, outputs),
                      "params": {k: str(v) for k, v in (params or {}).items()},
                      "arguments": tokens, "description": description, "category": category,
                      "runconfig": runconfig._to_spec().to_json() if runconfig is not None else None}
        catalog.add_module_version(local.conn, self._id, version, definition, is_default)
        self._refresh()
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

    def __repr__(self) -> str:
        return f"Module(Name: {self._name}, Id: {self._id}, Status: {self._status})"
