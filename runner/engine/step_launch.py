"""Turning one step of a PipelineSpec into a StepInvocation: the step contract.

Data objects in arguments become real paths (outputs by output name), parameters become
`str(value)`, `AZUREML_RUN_ID`, `AZUREML_DATAREFERENCE_<port>` and `AML_PARAMETER_<name>`
are set, the working directory is a private copy of the snapshot, and outputs live at
`<datastore>/azureml/<step run id>/<output name>`.
"""
from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runner.engine.parallel_launch import (cache_key, driver_arguments, driver_environment,
                                           side_input_ports)
from runner.engine.registry_launch import RegistryAssets, prepare_view
from runner.engine.run_context import RunContext, StepSetupError
from runner.executors.base import Executor, Mount, ResolvedEnvironment, ResourceLimits, StepInvocation
from runner.paths import COMPAT_DIR, PACKAGE_PARENT
from runner.spec import StepSpec, Token
from runner.step_runtime import contract
from store.key_vault import secrets_dir, secrets_path
from store.layout import StepRunFiles
from store.nofollow import copy_tree
from store.private_files import ensure_private_dir
from store.records import StoredOutput


@dataclass(frozen=True)
class PreparedStep:
    """A step ready to run, plus what to do after it exits."""

    invocation: StepInvocation
    outputs: dict[str, StoredOutput]
    uploads: tuple[tuple[Path, Path], ...]  # (folder in the working copy, output folder)
    resolved_arguments: tuple[str, ...]


def parameter_env_name(name: str) -> str:
    """The step environment variable that carries pipeline parameter `name`."""
    return contract.PARAMETER_PREFIX + re.sub(r"[~\W]", "_", name)


def parameter_text(value: Any) -> str:
    """A parameter value as a step sees it (a DataPath as `datastore/path`)."""
    if isinstance(value, dict) and "datastore" in value:
        return f"{value['datastore']}/{value.get('path') or ''}"
    return str(value)


def on_compute(workdir: Path, what: str, *parts: str | None) -> Path:
    """Where `parts` (a `path_on_compute`, absolute or relative, as Azure takes it) land: always
    inside the step's working copy (an absolute path is taken from the working copy's root),
    never a host path; a `..` that climbs out of it is a StepSetupError."""
    joined = posixpath.normpath(posixpath.join(*[p.replace("\\", "/") for p in parts if p] or ["."]))
    if joined == ".." or joined.startswith("../"):
        raise StepSetupError(f"{what}: path_on_compute leads to {joined!r}, outside the step's "
                             "working copy")
    rel = joined.lstrip("/")
    return workdir / rel if rel and rel != "." else workdir


def _download(src: Path, workdir: Path, dest: Path, port: str) -> None:
    """Copy the input `src` (a step could have written it) into the working copy, never
    following a link in it: a link inside it stays a link, one to outside fails the step."""
    copy_tree(src, workdir, dest.relative_to(workdir), f"input {port}")


def prepare_step(ctx: RunContext, step: StepSpec, step_run_id: str, files: StepRunFiles,
                 executor: Executor, environment: ResolvedEnvironment,
                 limits: ResourceLimits, snapshot_id: str | None = None,
                 assets: RegistryAssets | None = None) -> PreparedStep:
    """Resolve inputs, outputs, arguments and environment of `step` (its snapshot, with id
    `snapshot_id`, is already in `files.workdir`); with `assets`, the step's view of the
    registries too."""
    workdir = files.workdir
    env_vars: dict[str, str] = {}
    ports: dict[tuple[str, str], str] = {}
    mounts = [Mount(workdir, read_only=False)]
    dataset_inputs: list[str] = []
    input_paths: dict[str, tuple[Path, str]] = {}
    step = replace(step, inputs=tuple(ctx.resolved_input(i) for i in step.inputs))
    for inp in step.inputs:
        host = ctx.input_path(inp)
        mode = inp.mode or "mount"
        if mode == "download":
            datastore, below = ctx.datastore_location(inp) or ("outputs", inp.port)
            target = on_compute(workdir, f"input {inp.port}", datastore, inp.path_on_compute, below)
            _download(host, workdir, target, inp.port)
            seen = executor.map_path(target)
        else:
            mounts.append(Mount(host, read_only=True))
            seen = executor.map_path(host)
        ports[("input", inp.port)] = seen
        input_paths[inp.port] = (target if mode == "download" else host, seen)
        env_vars[contract.DATAREFERENCE_PREFIX + inp.port] = seen
        if inp.dataset:
            env_vars[inp.dataset] = seen
            dataset_inputs.append(f"{inp.dataset}:{mode}")
    outputs: dict[str, StoredOutput] = {}
    uploads: list[tuple[Path, Path]] = []
    dataset_outputs: list[str] = []
    for out in step.outputs:
        stored = outputs[out.port] = ctx.output(step_run_id, out)
        stored.local_path.mkdir(parents=True, exist_ok=True)
        if out.mode == "upload":
            local = on_compute(workdir, f"output {out.port}", out.path_on_compute or out.port)
            local.mkdir(parents=True, exist_ok=True)
            uploads.append((local, stored.local_path))
            seen = executor.map_path(local)
        else:
            mounts.append(Mount(stored.local_path, read_only=False))
            seen = executor.map_path(stored.local_path)
        ports[("output", out.port)] = seen
        env_vars[contract.DATAREFERENCE_PREFIX + out.port] = seen
        if out.kind == "output_dataset":
            env_vars[out.port] = seen
            dataset_outputs.append(out.port)

    # The service turns these argument strings (`output.arg_val`, str(dataset input)) into paths.
    by_arg_val = {f"DatasetOutputConfig:{o.port}": ports[("output", o.port)]
                  for o in step.outputs if o.kind == "output_dataset"}
    by_arg_val.update({f"DatasetConsumptionConfig:{i.dataset}": ports[("input", i.port)]
                       for i in step.inputs if i.dataset})

    def resolve(token: Token) -> str:
        if token.kind == "literal":
            return by_arg_val.get(token.value, token.value)
        if token.kind == "parameter":
            return parameter_text(ctx.parameters[token.value])
        if (token.kind, token.value) not in ports:
            raise StepSetupError(f"argument refers to unknown {token.kind} {token.value}")
        return ports[(token.kind, token.value)]

    arguments = tuple(resolve(t) for t in step.arguments)
    if step.parallel is not None:
        arguments = driver_arguments(step, step.parallel, resolve, arguments)
        env_vars.update(driver_environment(step.parallel, resolve))
        key = cache_key(ctx, step, snapshot_id, environment.identity)
        if key is not None:
            cache = ctx.layout.parallel_cache_dir(key)
            cache.mkdir(parents=True, exist_ok=True)
            mounts.append(Mount(cache, read_only=False))
            env_vars[contract.PARALLEL_CACHE] = executor.map_path(cache)
            env_vars[contract.PARALLEL_SIDE_INPUTS] = os.pathsep.join(
                ports[("input", port)] for port in side_input_ports(step))
    for name, token in step.params.items():
        env_vars[parameter_env_name(name)] = resolve(token)
    for token in step.arguments:
        if token.kind == "parameter":
            env_vars[parameter_env_name(token.value)] = resolve(token)
    if dataset_inputs:
        env_vars[contract.DATASET_INPUTS] = ",".join(dataset_inputs)
    if dataset_outputs:
        env_vars[contract.DATASET_OUTPUTS] = ";".join(dataset_outputs)

    if assets is not None:
        view_mounts, view_env = prepare_view(ctx.layout, assets, step, files, executor.map_path,
                                             input_paths)
        mounts += view_mounts
        env_vars.update(view_env)

    parent_artifacts = ctx.layout.run_artifacts_dir(ctx.run_id)
    files.artifacts.mkdir(parents=True, exist_ok=True)
    parent_artifacts.mkdir(parents=True, exist_ok=True)
    for runner_reads in (files.stdout, files.stderr, files.events):
        runner_reads.touch()
    # Not the run folder itself: each file the step writes is mounted alone, so a step in a
    # container cannot replace one (or its artifacts folder) with a link the runner would read.
    mounts += [*(Mount(path, read_only=False) for path in
                 (files.stdout, files.stderr, files.events, files.artifacts, parent_artifacts)),
               Mount(ensure_private_dir(secrets_dir(ctx.layout)), read_only=True)]
    env = _base_environment(executor)
    env.update(step.environment.environment_variables)
    env.update(env_vars)
    run = ctx.run
    env.update({
        contract.RUN_ID: step_run_id,
        contract.ROOT_RUN_ID: run.id,
        contract.PARENT_RUN_ID: run.id,
        contract.SUBSCRIPTION: run.subscription_id or "",
        contract.RESOURCE_GROUP: run.resource_group or "",
        contract.WORKSPACE_NAME: run.workspace_name or "",
        contract.EXPERIMENT_NAME: run.experiment_name,
        contract.SERVICE_ENDPOINT: "local",
        contract.EVENTS_FILE: executor.map_path(files.events),
        contract.ARTIFACTS_DIR: executor.map_path(files.artifacts),
        contract.PARENT_ARTIFACTS_DIR: executor.map_path(parent_artifacts),
        contract.STEP_NAME: step.name,
        contract.SECRETS_FILE: executor.map_path(secrets_path(ctx.layout)),
    })
    if ctx.run_number is not None:
        env[contract.PARENT_RUN_NUMBER] = str(ctx.run_number)
    invocation = StepInvocation(
        step_run_id=step_run_id, pipeline_run_id=run.id,
        argv=_argv(executor, step, arguments), env=env, cwd=workdir,
        files=files, mounts=tuple(mounts), limits=limits, image=environment.image,
        shm_size=step.environment.shm_size)
    return PreparedStep(invocation, outputs, tuple(uploads), arguments)


def _argv(executor: Executor, step: StepSpec, arguments: tuple[str, ...]) -> tuple[str, ...]:
    """What the step runs: its script with the step's Python, a CommandStep's program (where
    `python` means the step's Python), or a ParallelRunStep's driver."""
    program = step.command
    if step.parallel is not None:
        return (executor.python, "-m", contract.PARALLEL_DRIVER, *arguments)
    if program is None:
        return (executor.python, step.script_name or "", *arguments)
    return (executor.python if program in ("python", "python3") else program, *arguments)


def _base_environment(executor: Executor) -> dict[str, str]:
    """The environment a step starts from: the executor's, with our compat package first."""
    env = executor.base_environment()
    path = [executor.map_path(COMPAT_DIR), executor.map_path(PACKAGE_PARENT)]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["PYTHONUNBUFFERED"] = "1"
    return env
