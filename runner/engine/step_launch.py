"""Turning one step of a PipelineSpec into a StepInvocation: the step contract.

Data objects in arguments become real paths (outputs by output name), parameters become
`str(value)`, `AZUREML_RUN_ID`, `AZUREML_DATAREFERENCE_<port>` and `AML_PARAMETER_<name>`
are set, the working directory is a private copy of the snapshot, and outputs live at
`<datastore>/azureml/<step run id>/<output name>`.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.paths import COMPAT_DIR, PACKAGE_PARENT
from runner.executors.base import Executor, Mount, ResourceLimits, StepInvocation
from runner.step_runtime import contract
from store.datastore_globs import glob_files, materialize_selection
from store.datastore_paths import check_name, resolve_in_datastore
from store.layout import WorkspaceLayout



class StepSetupError(RunnerError):
    """A step could not be prepared (missing input data, unsupported input kind, …)."""


@dataclass
class RunFacts:
    """What every step of one pipeline run shares."""

    layout: WorkspaceLayout
    pipeline_run_id: str
    experiment_name: str
    parameters: dict[str, Any]
    identity: dict[str, str]
    producer_outputs: dict[str, dict[str, dict]] = field(default_factory=dict)
    regenerate_outputs: bool = False
    reuse_mode: str = "content"  # or "azure": datastore inputs by path, as the service does


@dataclass
class PreparedStep:
    """A step ready to run, plus what to do after it exits."""

    invocation: StepInvocation
    outputs: dict[str, dict]
    uploads: list[tuple[Path, Path]]
    run_dir: Path
    workdir: Path
    resolved_arguments: list[str]


def parameter_env_name(name: str) -> str:
    return contract.PARAMETER_PREFIX + re.sub(r"[~\W]", "_", name)


def parameter_text(value: Any) -> str:
    if isinstance(value, dict) and "datastore" in value:
        return f"{value['datastore']}/{value.get('path') or ''}"
    return str(value)


def output_location(facts: RunFacts, step_run_id: str, out: dict) -> tuple[str, str]:
    """(datastore, path on datastore) where output `out` of step run `step_run_id` lives."""
    check_name(out["port"], what="output name")
    if out["kind"] == "pipeline_data":
        return out["datastore"], f"azureml/{step_run_id}/{out['port']}"
    if out["kind"] == "output_dataset":
        path = out["destination"].replace("{run-id}", step_run_id).replace("{output-name}", out["port"])
        return out["datastore"], path
    return out["datastore"], out["destination"]


def _copy_tree(src: Path, dest: Path) -> None:
    if src.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    else:
        shutil.copytree(src, dest, dirs_exist_ok=True)


def prepare_step(facts: RunFacts, step: dict, step_run_id: str, run_dir: Path, workdir: Path,
                 executor: Executor, limits: ResourceLimits | None = None) -> PreparedStep:
    """Resolve inputs, outputs, arguments and environment of `step` (its snapshot is in `workdir`)."""
    layout = facts.layout
    env_vars: dict[str, str] = {}
    ports: dict[tuple[str, str], str] = {}
    mounts = [Mount(workdir, read_only=False)]
    dataset_inputs: list[str] = []
    for inp in step["inputs"]:
        host = input_host_path(facts, step, inp)
        mode = inp.get("mode") or "mount"
        if mode == "download":
            datastore = inp["source"].get("datastore") or "outputs"
            target = workdir / datastore / (inp.get("path_on_compute") or "") / \
                inp["source"].get("path", inp["port"])
            _copy_tree(host, target)
            seen = executor.map_path(target)
        else:
            mounts.append(Mount(host, read_only=True))
            seen = executor.map_path(host)
        ports[("input", inp["port"])] = seen
        env_vars[contract.DATAREFERENCE_PREFIX + inp["port"]] = seen
        if inp.get("dataset"):
            env_vars[inp["dataset"]] = seen
            dataset_inputs.append(f"{inp['dataset']}:{mode}")
    outputs: dict[str, dict] = {}
    uploads: list[tuple[Path, Path]] = []
    dataset_outputs: list[str] = []
    for out in step["outputs"]:
        datastore, path = output_location(facts, step_run_id, out)
        host = resolve_in_datastore(layout.datastore_dir(datastore), path, what=f"output {out['port']}")
        host.mkdir(parents=True, exist_ok=True)
        outputs[out["port"]] = {"name": out["port"], "datastore": datastore, "path": path,
                                "local_path": str(host)}
        if out.get("mode") == "upload":
            local = workdir / (out.get("path_on_compute") or out["port"])
            local.mkdir(parents=True, exist_ok=True)
            uploads.append((local, host))
            seen = executor.map_path(local)
        else:
            mounts.append(Mount(host, read_only=False))
            seen = executor.map_path(host)
        ports[("output", out["port"])] = seen
        env_vars[contract.DATAREFERENCE_PREFIX + out["port"]] = seen
        if out["kind"] == "output_dataset":
            env_vars[out["port"]] = seen
            dataset_outputs.append(out["port"])

    def resolve(token: dict) -> str:
        if "literal" in token:
            return token["literal"]
        if "parameter" in token:
            return parameter_text(facts.parameters[token["parameter"]])
        kind = "input" if "input" in token else "output"
        key = (kind, token[kind])
        if key not in ports:
            raise StepSetupError(f"argument refers to unknown {kind} {token[kind]}")
        return ports[key]

    arguments = [resolve(t) for t in step.get("arguments", [])]
    for name, token in (step.get("params") or {}).items():
        env_vars[parameter_env_name(name)] = resolve(token)
    for token in step.get("arguments", []):
        if "parameter" in token:
            env_vars[parameter_env_name(token["parameter"])] = resolve(token)
    if dataset_inputs:
        env_vars[contract.DATASET_INPUTS] = ",".join(dataset_inputs)
    if dataset_outputs:
        env_vars[contract.DATASET_OUTPUTS] = ";".join(dataset_outputs)

    artifacts = run_dir / "artifacts"
    parent_artifacts = layout.pipeline_run_dir(facts.pipeline_run_id) / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    parent_artifacts.mkdir(parents=True, exist_ok=True)
    mounts += [Mount(run_dir, read_only=False), Mount(parent_artifacts, read_only=False)]
    runconfig = step.get("runconfig") or {}
    environment = runconfig.get("environment") or {}
    env = _base_environment(executor)
    env.update({str(k): str(v) for k, v in (environment.get("environment_variables") or {}).items()})
    env.update(env_vars)
    env.update({
        contract.RUN_ID: step_run_id,
        contract.ROOT_RUN_ID: facts.pipeline_run_id,
        contract.PARENT_RUN_ID: facts.pipeline_run_id,
        contract.SUBSCRIPTION: facts.identity.get("subscription_id", ""),
        contract.RESOURCE_GROUP: facts.identity.get("resource_group", ""),
        contract.WORKSPACE_NAME: facts.identity.get("workspace_name", ""),
        contract.EXPERIMENT_NAME: facts.experiment_name,
        contract.SERVICE_ENDPOINT: "local",
        contract.EVENTS_FILE: executor.map_path(run_dir / "events.jsonl"),
        contract.ARTIFACTS_DIR: executor.map_path(artifacts),
        contract.PARENT_ARTIFACTS_DIR: executor.map_path(parent_artifacts),
        contract.STEP_NAME: step["name"],
    })
    program = step.get("command")  # a CommandStep's program; `python` is the step's Python
    argv = ([executor.python if program in ("python", "python3") else program, *arguments]
            if program else [executor.python, step["script_name"], *arguments])
    invocation = StepInvocation(
        step_run_id=step_run_id, pipeline_run_id=facts.pipeline_run_id, argv=argv, env=env,
        cwd=workdir, stdout_path=run_dir / "stdout.txt", stderr_path=run_dir / "stderr.txt",
        mounts=mounts, environment=environment,
        limits=limits or ResourceLimits(timeout_seconds=runconfig.get("max_run_duration_seconds")))
    return PreparedStep(invocation, outputs, uploads, run_dir, workdir, arguments)


def _base_environment(executor: Executor) -> dict[str, str]:
    """The environment a step starts from: the executor's, with our compat package first."""
    env = executor.base_environment()
    path = [executor.map_path(COMPAT_DIR), executor.map_path(PACKAGE_PARENT)]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def input_host_path(facts: RunFacts, step: dict, inp: dict) -> Path:
    source = inp["source"]
    kind = source["type"]
    if kind == "datastore":
        root = facts.layout.datastore_dir(source["datastore"])
        if not root.is_dir():
            raise StepSetupError(f"input {inp['port']}: datastore {source['datastore']} does not exist")
        path = resolve_in_datastore(root, source["path"], what=f"input {inp['port']}")
        if not path.exists():
            raise StepSetupError(f"input {inp['port']}: {source['datastore']}:{source['path']} "
                                 f"does not exist (looked in {path})")
        if source.get("pattern"):  # a dataset glob: only the files it matches, in their own folder
            files = glob_files(path, source["pattern"])
            if not files:
                raise StepSetupError(f"input {inp['port']}: {source['datastore']}:{source['path']}/"
                                     f"{source['pattern']} matches no files")
            return materialize_selection(facts.layout.root / "selections", path, files)
        return path
    if kind == "step_output":
        produced = facts.producer_outputs.get(source["node"], {}).get(source["output"])
        if produced is None:
            raise StepSetupError(f"input {inp['port']}: the producing step has no output "
                                 f"{source['output']}")
        return Path(produced["local_path"])
    if kind == "parameter":
        value = facts.parameters.get(source["parameter"])
        if isinstance(value, dict) and "datastore" in value:
            return resolve_in_datastore(facts.layout.datastore_dir(value["datastore"]),
                                        value.get("path"), what=f"input {inp['port']}")
        raise StepSetupError(f"input {inp['port']}: parameter {source['parameter']} is not a DataPath")
    raise StepSetupError(f"input {inp['port']}: unsupported source {kind}")
