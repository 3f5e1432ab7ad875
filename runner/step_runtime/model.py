"""`azureml.core.Model`: registered models with versions, tags and properties, in a script and
inside a step.

Registering copies the model's file or folder into the workspace (`.amlocal/models/<name>/
<version>/`); from a step the copy is staged and registered when the step succeeds (see
`registry_view`). `Model.get_model_path(name)` gives the registered files' path: in a step, the
read-only copy mounted into it. Deploying (web services) needs Azure and is refused in one
line. Standard library only.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from typing import Any

from runner.step_runtime.exceptions import (ModelNotFoundException, UserErrorException,
                                            WebserviceException)

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-._]{0,254}")
_NOT_HERE = ("{call}: deploying or packaging models as web services needs Azure ML, which amlocal "
             "does not emulate; load the model in a step with Model.get_model_path(name)")


def check_model_name(name: Any) -> str:
    """`name` if Azure accepts it as a model name, else the SDK's error."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise WebserviceException(
            "Error, provided model name is invalid. It must only consist of letters, numbers, "
            "dashes, periods, or underscores, start with a letter or number, and be between 1 "
            "and 255 characters long.")
    return name


def _string_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WebserviceException(f"{what} must be a dict")
    return {str(k): str(v) for k, v in value.items()}


def _not_found(**query: Any) -> WebserviceException:
    return WebserviceException("ModelNotFound: Model with " + ", ".join(
        f"{k} {v}" for k, v in query.items() if v) + " not found in provided workspace")


def _dataset_refs(datasets: Any) -> list[list[str]]:
    refs = []
    for item in datasets or []:
        scenario, dataset = item if isinstance(item, tuple) else ("training", item)
        if getattr(dataset, "id", None) is None:
            raise WebserviceException('Unable to register Model with provided Dataset with ID '
                                      '"None". Register the dataset first (dataset.register).')
        refs.append([str(scenario), dataset.id])
    return refs


class Framework:
    """Model frameworks (`Model.Framework`)."""

    CUSTOM = "Custom"
    MULTI = "Multi"
    ONNX = "Onnx"
    PYTORCH = "PyTorch"
    SCIKITLEARN = "ScikitLearn"
    TENSORFLOW = "TensorFlow"
    TFKERAS = "TfKeras"


def _matches(asset: dict[str, Any], name: str | None, tags: Any, properties: Any,
             run_id: str | None, dataset_id: str | None, framework: str | None) -> bool:
    if name is not None and asset["name"] != name:
        return False
    definition = asset.get("definition", {})
    for wanted, have in ((tags, asset.get("tags") or {}), (properties, asset.get("properties") or {})):
        for item in wanted or []:
            if isinstance(item, (list, tuple)):
                key, value = item[0], item[1] if len(item) > 1 else None
                if key not in have or (value is not None and have[key] != value):
                    return False
            elif item not in have:
                return False
    if run_id is not None and run_id not in (asset.get("made_by_step_run_id"), definition.get("run_id")):
        return False
    if dataset_id is not None and dataset_id not in [d[1] for d in definition.get("datasets", [])]:
        return False
    return framework is None or definition.get("framework") == framework


class Model:
    """A registered model version (`azureml.core.Model`)."""

    Framework = Framework

    def __init__(self, workspace: Any, name: str | None = None, id: str | None = None,
                 tags: Any = None, properties: Any = None, version: int | None = None,
                 run_id: str | None = None, model_framework: str | None = None,
                 expand: bool = True, **kwargs: Any) -> None:
        self.workspace = workspace
        asset = kwargs.get("_asset")
        if asset is None:
            if not id and not name:
                raise WebserviceException("Error, one of id or name must be provided.")
            asset = Model._find(workspace, name, id, tags, properties, version, run_id,
                                model_framework)
        self._asset = asset

    @staticmethod
    def _find(workspace: Any, name: str | None, id: str | None, tags: Any, properties: Any,
              version: int | None, run_id: str | None, framework: str | None) -> dict[str, Any]:
        registry = workspace._registry()
        if id:
            asset = registry.model_by_id(id)
        elif version is not None and not (tags or properties or run_id or framework):
            asset = registry.model(name, int(version))
        else:
            found = [a for a in registry.models()
                     if _matches(a, name, tags, properties, run_id, None, framework)
                     and (version is None or a["version"] == int(version))]
            asset = max(found, key=lambda a: a["version"]) if found else None
            if asset is not None:
                registry.note_use(asset)
        if asset is None:
            raise _not_found(name=name, id=id, tags=tags, properties=properties, version=version,
                             run_id=run_id, model_framework=framework)
        return asset

    # ----------------------------------------------------------------- what it is
    @property
    def name(self) -> str:
        return self._asset["name"]

    @property
    def version(self) -> int:
        return int(self._asset["version"])

    @property
    def id(self) -> str:
        """`name:version`, as Azure gives model ids."""
        return self._asset["id"]

    @property
    def description(self) -> str | None:
        return self._asset.get("description")

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._asset.get("tags") or {})

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._asset.get("properties") or {})

    @property
    def created_time(self) -> dt.datetime | None:
        stamp = self._asset.get("created_at")
        return dt.datetime.fromtimestamp(stamp, dt.timezone.utc) if stamp else None

    @property
    def model_framework(self) -> str | None:
        return self._asset.get("definition", {}).get("framework")

    @property
    def model_framework_version(self) -> str | None:
        return self._asset.get("definition", {}).get("framework_version")

    @property
    def run_id(self) -> str | None:
        """The step run that registered this version (None when a script did)."""
        return self._asset.get("made_by_step_run_id")

    @property
    def datasets(self) -> dict[str, list[str]]:
        """scenario → the ids of the datasets registered with the model."""
        out: dict[str, list[str]] = {}
        for scenario, dataset_id in self._asset.get("definition", {}).get("datasets", []):
            out.setdefault(scenario, []).append(dataset_id)
        return out

    @property
    def url(self) -> str:
        return f"amlocal://models/{self.name}/{self.version}"

    def __repr__(self) -> str:
        return (f"Model(workspace={self.workspace!r}, name={self.name}, id={self.id}, "
                f"version={self.version}, tags={self.tags}, properties={self.properties})")

    def serialize(self) -> dict[str, Any]:
        """The model's fields as a dict (`Model.deserialize` takes it back)."""
        return {"id": self.id, "name": self.name, "version": self.version,
                "description": self.description, "tags": self.tags,
                "properties": self.properties, "framework": self.model_framework,
                "createdTime": self.created_time.isoformat() if self.created_time else None}

    @staticmethod
    def deserialize(workspace: Any, model_payload: dict[str, Any]) -> "Model":
        return Model(workspace, id=model_payload["id"])

    # ----------------------------------------------------------------- registering
    @staticmethod
    def register(workspace: Any, model_path: str, model_name: str, tags: dict | None = None,
                 properties: dict | None = None, description: str | None = None,
                 datasets: list | None = None, model_framework: str | None = None,
                 model_framework_version: str | None = None, child_paths: list | None = None,
                 sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                 resource_configuration: Any = None) -> "Model":
        """Register the file or folder `model_path` as the next version of `model_name`."""
        check_model_name(model_name)
        if model_framework_version is not None and model_framework is None:
            raise WebserviceException("Model framework version cannot be provided without a "
                                      "valid framework")
        if not os.path.exists(model_path):
            raise WebserviceException(f'Error, provided model path "{model_path}" cannot be found')
        fields = {"tags": _string_map(tags, "Tags"), "properties": _string_map(properties, "Properties"),
                  "description": description, "framework": model_framework or Framework.CUSTOM,
                  "framework_version": model_framework_version,
                  "datasets": _dataset_refs(datasets)}
        if sample_input_dataset is not None:
            fields["datasets"].append(["input", sample_input_dataset.id])
        asset = workspace._registry().register_model(model_name, model_path, fields)
        return Model(workspace, _asset=asset)

    @staticmethod
    def list(workspace: Any, name: str | None = None, tags: Any = None, properties: Any = None,
             run_id: str | None = None, latest: bool = False, dataset_id: str | None = None,
             expand: bool = True, page_count: int = 255, model_framework: str | None = None
             ) -> list["Model"]:
        """The registered model versions that match, newest first; `latest`: one per name."""
        found = sorted((a for a in workspace._registry().models()
                        if _matches(a, name, tags, properties, run_id, dataset_id, model_framework)),
                       key=lambda a: (a["name"], -a["version"]))
        if latest:
            newest: dict[str, dict] = {}
            for a in found:
                newest.setdefault(a["name"], a)
            found = list(newest.values())
        return [Model(workspace, _asset=a) for a in found]

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: Any = None) -> str:
        """The path of registered model `model_name`'s file or folder (latest version unless
        `version`): in a step its read-only copy, in a script the workspace's."""
        if version is not None and not isinstance(version, int):
            raise WebserviceException("version should be an int")
        if _workspace is not None:
            registry = _workspace._registry()
        else:  # in a step: its view of the registries
            from runner.step_runtime.registry_view import step_registry
            registry = step_registry()
        asset = registry.model(model_name, version)
        if asset is None:
            names = sorted(f"{a['name']}/{a['version']}" for a in registry.models())
            raise ModelNotFoundException(f"Model/Version {model_name}/{version} not found in "
                                         f"workspace. {names}")
        return os.path.join(str(registry.model_folder(asset)), asset["definition"]["path"])

    def download(self, target_dir: str = ".", exist_ok: bool = False,
                 exists_ok: bool | None = None) -> str:
        """Copy the model's file or folder into `target_dir`; returns its path there."""
        if exists_ok is not None:
            exist_ok = exists_ok
        source = Model.get_model_path(self.name, self.version, self.workspace)
        target = os.path.join(target_dir, os.path.basename(source))
        if os.path.exists(target) and not exist_ok:
            raise WebserviceException("File already exists. To overwrite, set exist_ok to True. "
                                      f"{target}")
        os.makedirs(target_dir, exist_ok=True)
        if os.path.isdir(source):
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)
        return target

    # ----------------------------------------------------------------- changing
    def _update(self, description: str | None = None, tags: dict | None = None,
                properties: dict | None = None) -> None:
        self._asset = self.workspace._registry().update_model(self.id, description, tags, properties)

    def update(self, tags: dict | None = None, description: str | None = None,
               sample_input_dataset: Any = None, sample_output_dataset: Any = None,
               resource_configuration: Any = None) -> None:
        """Replace the tags or description."""
        self._update(description, _string_map(tags, "Tags") if tags is not None else None)

    def add_tags(self, tags: dict) -> None:
        self._update(tags={**self.tags, **_string_map(tags, "Tags")})

    def remove_tags(self, tags: list) -> None:
        self._update(tags={k: v for k, v in self.tags.items() if k not in set(tags)})

    def add_properties(self, properties: dict) -> None:
        """Add properties (existing ones cannot change, as in Azure)."""
        new = _string_map(properties, "Properties")
        clash = [k for k in new if k in self.properties and self.properties[k] != new[k]]
        if clash:
            raise WebserviceException(f"Model properties cannot be changed: {', '.join(clash)}")
        self._update(properties={**self.properties, **new})

    def update_tags_properties(self, add_tags: dict | None = None, remove_tags: list | None = None,
                               add_properties: dict | None = None) -> None:
        if add_tags or remove_tags:
            tags = {**self.tags, **_string_map(add_tags, "Tags")}
            self._update(tags={k: v for k, v in tags.items() if k not in set(remove_tags or ())})
        if add_properties:
            self.add_properties(add_properties)

    def add_dataset_references(self, datasets: list) -> None:
        raise UserErrorException("add_dataset_references: pass datasets= to Model.register")

    def delete(self) -> None:
        """Remove this version and its files."""
        self.workspace._registry().delete_model(self.id)

    # ----------------------------------------------------------------- Azure only
    @staticmethod
    def deploy(workspace: Any, name: str, models: list, inference_config: Any = None,
               deployment_config: Any = None, deployment_target: Any = None,
               overwrite: bool = False, show_output: bool = False) -> Any:
        raise UserErrorException(_NOT_HERE.format(call="Model.deploy"))

    @staticmethod
    def package(workspace: Any, models: list, inference_config: Any = None,
                generate_dockerfile: bool = False, image_name: str | None = None,
                image_label: str | None = None) -> Any:
        raise UserErrorException(_NOT_HERE.format(call="Model.package"))

    @staticmethod
    def profile(workspace: Any, profile_name: str, models: list, inference_config: Any,
                input_dataset: Any, cpu: float | None = None, memory_in_gb: float | None = None,
                description: str | None = None) -> Any:
        raise UserErrorException(_NOT_HERE.format(call="Model.profile"))

    def get_sas_urls(self) -> dict:
        raise UserErrorException("Model.get_sas_urls: models are local files here; use "
                                 "model.download() or Model.get_model_path(name)")
