"""The workspace's environment registry: `Environment.register`, `get`, `list` and `label`.

A registered version keeps the environment's definition as the store's `environment` kind:
`spec` (what a step records, `Environment._to_spec().to_json()`, so the image and the step
fingerprint of a registered environment are those of the unregistered one), `sdk` (the SDK's
own fields amlocal keeps: the exact base image, interpreter path, Docker switches) and
`channels` (conda channels). Registering a definition equal to the latest version of its name
returns that version, as Azure does, instead of adding one.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping

from runner.sdk.conda_dependencies import CondaDependencies
from runner.step_runtime.exceptions import UserErrorException
from store import registry
from store.database import transaction
from store.records import AssetRecord

Environment = Any  # runner.sdk.environment.Environment, which imports this module

KIND = "environment"
CURATED_PREFIX = "AzureML-"  # Azure ML's curated environments: defined in Azure only
DEFINITION_FORMAT = 1
LABELS = "labels"  # the property holding a version's labels (a list of strings)
module_logger = logging.getLogger(__name__)

_GET_ERROR = "Error retrieving the environment definition. Code: 404: "
_LABEL_ERROR = "Error retrieving the environment definition {} with label {}. Code: 404: "


def definition_of(env: Environment) -> dict[str, Any]:
    """`env`'s definition as the registry keeps it (plain JSON, normalised)."""
    docker, python = env.docker, env.python
    definition = {
        "format": DEFINITION_FORMAT,
        "spec": env._to_spec().to_json(),
        "sdk": {"baseImage": docker.base_image, "enabled": bool(docker.enabled),
                "sharedVolumes": bool(docker.shared_volumes),
                "interpreterPath": python.interpreter_path},
        "channels": python.conda_dependencies.conda_channels,
    }
    return json.loads(json.dumps(definition, sort_keys=True))


def environment_of(environment_class: type, record: AssetRecord) -> Environment:
    """The Environment a registered version describes, its `version` the SDK's string."""
    definition = record.definition
    spec: Mapping[str, Any] = definition.get("spec") or {}
    sdk: Mapping[str, Any] = definition.get("sdk") or {}
    env = environment_class(record.name)
    env.version = str(record.version)
    env.asset_id = record.id
    docker = env.docker
    docker._base_image = sdk.get("baseImage")
    docker._base_dockerfile = spec.get("base_dockerfile")
    docker._build_context = None
    docker.arguments = list(spec.get("docker_arguments") or [])
    docker.shm_size = spec.get("shm_size")
    docker.enabled = bool(sdk.get("enabled", False))
    docker.shared_volumes = bool(sdk.get("sharedVolumes", True))
    deps = CondaDependencies()
    if spec.get("python_version"):
        deps.set_python_version(spec["python_version"])
    deps._channels = list(definition.get("channels") or [])
    deps._conda = list(spec.get("conda_packages") or [])
    deps._pip = list(spec.get("pip_packages") or [])
    deps._pip_options = list(spec.get("pip_options") or [])
    env.python.conda_dependencies = deps
    env.python.user_managed_dependencies = bool(spec.get("user_managed"))
    env.python.interpreter_path = sdk.get("interpreterPath") or "python"
    env.environment_variables = dict(spec.get("environment_variables") or {})
    env._framework = dict(spec["framework"]) if spec.get("framework") else None
    return env


def _conn(workspace: Any) -> Any:
    return workspace._local.conn


def register(env: Environment, workspace: Any) -> Environment:
    """Register `env` in `workspace`: a new version, or the latest one when it is unchanged."""
    if not env.name:
        raise UserErrorException("Name is required to register an Environment")
    if env.name.startswith(CURATED_PREFIX):
        raise UserErrorException(
            f"Environment names starting with {CURATED_PREFIX} are reserved for Azure ML's curated "
            f"environments: register {env.name} under another name")
    if env.version is not None:
        module_logger.warning("Environment version is set. Attempting to register desired version. "
                              "To auto-version, reset version to None.")
    conn = _conn(workspace)
    definition = definition_of(env)
    with transaction(conn):  # compare and add at once: two equal registrations add one version
        latest = registry.find_version(conn, KIND, env.name)
        if latest is None or dict(latest.definition) != definition:
            latest = registry.add_version(conn, KIND, env.name, definition)
    return environment_of(type(env), latest)


def _versions(conn: Any, name: str) -> list[AssetRecord]:
    return registry.list_versions(conn, KIND, name)  # newest first


def _missing(name: str, versions: list[AssetRecord]) -> str:
    if not versions:
        return f"no environment named {name} is registered in this workspace"
    return (f"environment {name} has versions "
            f"{', '.join(str(r.version) for r in reversed(versions))}")


def get(environment_class: type, workspace: Any, name: str, version: Any = None,
        label: str | None = None) -> Environment:
    """Version `version` of `name`, the one labelled `label`, or the latest."""
    conn = _conn(workspace)
    versions = _versions(conn, name)
    if label:
        found = next((r for r in versions if label in (r.properties.get(LABELS) or [])), None)
        if found is None:
            labelled = [f"{r.version}: {', '.join(r.properties[LABELS])}" for r in reversed(versions)
                        if r.properties.get(LABELS)]
            if not versions:
                why = _missing(name, versions)
            elif labelled:
                why = f"environment {name} has labels {'; '.join(labelled)}"
            else:
                why = f"no version of environment {name} has a label"
            raise UserErrorException(_LABEL_ERROR.format(name, label) + why)
        return environment_of(environment_class, found)
    if version is None:
        if not versions:
            raise UserErrorException(_GET_ERROR + _missing(name, versions))
        return environment_of(environment_class, versions[0])
    wanted = str(version).strip()
    found = next((r for r in versions if str(r.version) == wanted), None)
    if found is None:
        detail = (f"environment {name} has no version {wanted} (versions: "
                  f"{', '.join(str(r.version) for r in reversed(versions))})" if versions
                  else _missing(name, versions))
        raise UserErrorException(_GET_ERROR + detail)
    return environment_of(environment_class, found)


def list_latest(environment_class: type, workspace: Any) -> dict[str, Environment]:
    """Every registered environment name → its latest version, by name."""
    records = registry.list_versions(_conn(workspace), KIND, latest_only=True)
    return {r.name: environment_of(environment_class, r) for r in records}


def label(workspace: Any, name: str, version: Any, labels: list[str]) -> None:
    """Put `labels` on version `version` of `name` (a label names one version: it leaves the
    version that had it)."""
    conn = _conn(workspace)
    versions = _versions(conn, name)
    wanted = str(version).strip()
    target = next((r for r in versions if str(r.version) == wanted), None)
    if target is None:
        raise UserErrorException(_GET_ERROR + (
            f"environment {name} has no version {wanted} (versions: "
            f"{', '.join(str(r.version) for r in reversed(versions))})" if versions
            else _missing(name, versions)))
    new = [str(x) for x in labels]
    for record in versions:
        current = [x for x in (record.properties.get(LABELS) or []) if x not in new]
        if record.id == target.id:
            current = [*current, *new]
        if current != list(record.properties.get(LABELS) or []):
            registry.update_asset(conn, record.id, properties={**record.properties, LABELS: current})
