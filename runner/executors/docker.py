"""The Docker executor: each step in its own container, removed when the step ends.

Paths are mapped, not copied: the workspace folder appears at /amlocal/workspace (each
input mounted read-only, each output and the step run's own folder writable, nothing else)
and amlocal's `runner` package (step runtime and compat `azureml`) read-only at
/amlocal/lib, on PYTHONPATH. The container runs as the workspace owner, so what a step
writes belongs to the user (as an unprivileged uid when the owner is root, and what it wrote
is handed back afterwards), with no capabilities, no-new-privileges and a pids limit. The
files of its run folder that the runner reads back (logs, events, artifacts) are mounted one
by one, so the step cannot replace them with links. Output goes straight to the step's log files through the
mounted run folder, so nothing is lost if the runner dies, and nothing streams through it.
A watcher may start a step's container ahead, held at its gate (`start_ahead`); the step's
start then only opens the gate, if it is exactly the container the start would create
(`runner.executors.precreated`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import psutil

from runner.executors.base import (Capabilities, Mount, ResolvedEnvironment, StepInvocation,
                                   Usage, environment_label)
from runner.executors.container_step import LAUNCH, ContainerStep, new_gate, remove_gate
from runner.executors.docker_engine import DEFAULT_BASE_IMAGE, docker_client, explain
from runner.executors.images import ImageBuilder, ImageRecipe
from runner.executors.image_cache import lookup
from runner.executors.precreated import (CREATED, FAILED, UP, discard_precreated, keep_precreated,
                                          mounted_identity, precreated_step_runs, start_precreated,
                                          take_precreated, wait_precreated)
from runner.executors.processes import process_alive
from runner.paths import PACKAGE_PARENT
from runner.spec import EnvironmentSpec
from store.key_vault import secrets_dir
from store.layout import WorkspaceLayout
from store.records import StepRunRecord
from store.settings import image_map as image_map_setting

WORKSPACE_IN_CONTAINER = "/amlocal/workspace"
LIB_IN_CONTAINER = "/amlocal/lib"
LABEL_WORKSPACE = "amlocal.workspace"
LABEL_RUN = "amlocal.pipeline-run"
LABEL_STEP_RUN = "amlocal.step-run"
# On a container made ahead (watch mode): "pid:create time" of the process that made it, so a
# reaper leaves it alone while that process lives (its run is not recorded yet).
LABEL_MADE_BY = "amlocal.made-ahead-by"
# The uid:gid a step runs as when the workspace belongs to root: a step never runs as uid 0.
UNPRIVILEGED_UID = 65532
PIDS_LIMIT = 4096  # processes and threads of one step: a fork bomb stops here
class DockerExecutor:
    """Runs each step in a container of its environment's image."""

    name = "docker"
    python = "python3"
    capabilities = Capabilities(warm_start=True)  # a container's start costs ~0.2 s: pay it early

    def __init__(self, layout: WorkspaceLayout, base_image: str | None = None,
                 may_build: bool = True, image_map: Mapping[str, str] | None = None) -> None:
        self.layout = layout
        # registry image → local image (the `image_map` setting, the workspace's over the user's)
        self.image_map = dict(image_map) if image_map is not None else image_map_setting(layout)
        self.may_build = may_build  # False: a missing image raises ImageNotReady (client-side planning)
        self.base_image = base_image or DEFAULT_BASE_IMAGE
        self.client = docker_client()
        self.images = ImageBuilder(self.client, layout.root / "images")
        owner = layout.root.stat()
        self.uid, self.gid = owner.st_uid, owner.st_gid
        # Checked in order: a workspace inside amlocal's own folder maps as workspace.
        self._roots = [(Path(layout.root), WORKSPACE_IN_CONTAINER), (PACKAGE_PARENT, LIB_IN_CONTAINER)]
        self._cpu_samples: dict[str, tuple[int, int]] = {}

    def map_path(self, host_path: Path) -> str:
        path = Path(host_path)
        for root, inside in self._roots:
            if path == root or path.is_relative_to(root):
                return inside + ("/" + path.relative_to(root).as_posix() if path != root else "")
        raise explain(ValueError(f"{path} is outside the workspace {self.layout.root}"),
                      "mounting a step's folder")

    def base_environment(self) -> dict[str, str]:
        return {"HOME": "/tmp", "LANG": "C.UTF-8"}

    def resolve_environment(self, environment: EnvironmentSpec, log_path: Path) -> ResolvedEnvironment:
        """The image of `environment`, built if needed; it is identified by image id, not tag."""
        with open(log_path, "a") as log:
            named = ImageRecipe.from_environment(environment, self._base_for(environment, log))
            recipe = named.mapped(self.image_map, log)
            image, image_id = self.images.ensure(recipe, log, build=self.may_build)
            self._say_python(environment, image, image_id, log)
        # A changed mapping is another image, even when both local images have one id.
        mapping = f"{named.base_image}={recipe.base_image}" if recipe is not named else None
        text = json.dumps({"image_id": image_id, "variables": dict(environment.environment_variables),
                           **({"image_map": mapping} if mapping else {}),
                           "docker_arguments": list(environment.docker_arguments),
                           "shm_size": environment.shm_size}, sort_keys=True)
        runs_in = f"image {image} ({image_id.removeprefix('sha256:')[:12]})"
        label = environment_label(environment, runs_in + (f", mapped from {named.base_image}"
                                                          if mapping else ""),
                                  ("environment_variables", "docker_arguments", "shm_size"))
        return ResolvedEnvironment("docker:" + hashlib.sha256(text.encode()).hexdigest(), image,
                                   {"amlocal.image": image, "amlocal.image_id": image_id}, label)

    def _base_for(self, environment: EnvironmentSpec, log: Any) -> str:
        """The base image for an environment that names none: the configured one, unless it
        asks for a Python that an image on this machine (`python:X.Y-slim`) has."""
        wanted = environment.asked_python
        if wanted and environment.base_image is None:
            candidate = f"python:{wanted}-slim"
            if self.images.existing(candidate):
                log.write(f"environment {environment.name} asks for Python {wanted}: "
                          f"its base image is {candidate}\n")
                return candidate
        return self.base_image

    def _say_python(self, environment: EnvironmentSpec, image: str, image_id: str, log: Any) -> None:
        """Say so in the build log when the step's Python is not the one its environment asks for."""
        wanted = environment.asked_python
        if not wanted:
            return
        have = self.images.image_python(image_id)[0]
        if have != wanted:
            log.write(f"environment {environment.name} asks for Python {wanted}, but no image with "
                      f"Python {wanted} is on this machine (pull python:{wanted}-slim, or set "
                      f"environment.docker.base_image): the step runs with Python {have} of {image}\n")

    def _docker_mounts(self, mounts: Iterable[Mount], sources: dict[Path, Path]) -> list[Any]:
        """Docker's mounts of `mounts`; `sources` gives another host folder to mount in place of
        one (the step's own copy of the secrets)."""
        from docker.types import Mount as DockerMount
        seen = [DockerMount(self.map_path(PACKAGE_PARENT / "runner"), str(PACKAGE_PARENT / "runner"),
                            type="bind", read_only=True)]
        for m in mounts:
            source = sources.get(m.host_path, m.host_path)
            seen.append(DockerMount(self.map_path(m.host_path), str(source), type="bind",
                                    read_only=m.read_only))
        return seen

    def _secrets_for(self, uid: int, gid: int, run_dir: Path) -> dict[Path, Path]:
        """For a step that runs as another uid than the owner (a root workspace), a copy of the
        secrets folder it can read (0700/0600, its own), mounted read-only in place of it."""
        folder = secrets_dir(self.layout)
        if (uid, gid) == (self.uid, self.gid) or not folder.is_dir():
            return {}
        copy = run_dir / "secrets"
        if os.path.islink(copy) or (os.path.lexists(copy) and not copy.is_dir()):
            os.unlink(copy)  # (only the runner writes here; never followed anyway)
        if os.path.lexists(copy):
            # made when the container was started ahead, which mounts this very folder: its
            # files are written again in place
            for entry in os.scandir(copy):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
        else:
            os.mkdir(copy, 0o700)
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False):
                fd = os.open(copy / entry.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with open(entry.path, "rb") as src, os.fdopen(fd, "wb") as out:
                    out.write(src.read())
                os.lchown(copy / entry.name, uid, gid)
        os.lchown(copy, uid, gid)
        return {folder: copy}

    def step_user(self) -> tuple[int, int]:
        """The uid and gid a step runs as: the workspace owner's, or an unprivileged one when
        the workspace belongs to root (never uid 0)."""
        if self.uid == 0:
            return UNPRIVILEGED_UID, UNPRIVILEGED_UID
        return self.uid, self.gid

    def _hand_over(self, mounts: Iterable[Mount], uid: int, gid: int) -> None:
        """A root runner gives the writable folders to `uid:gid` (links are changed, never
        followed; one removed already, e.g. by its step's end, is passed over)."""
        if os.geteuid() != 0:
            return
        for m in mounts:
            if m.read_only:
                continue
            try:
                os.lchown(m.host_path, uid, gid)
            except FileNotFoundError:
                continue
            for folder, dirs, files in os.walk(m.host_path, followlinks=False):
                for name in dirs + files:
                    os.lchown(os.path.join(folder, name), uid, gid)

    def _launch_setup(self, invocation: StepInvocation, gate: Path | None, ahead: bool = False
                      ) -> tuple[dict[str, Any], Callable[[], None]]:
        """(create_container arguments, what undoes the setup) of `invocation`, held at the
        FIFO `gate` when one is given (made by the caller), labelled as made ahead by this
        process when `ahead`: the writable folders handed to the step's user and its copy of
        the secrets made, as a start needs them."""
        image = invocation.image or self.base_image
        limits = invocation.limits
        api = self.client.api
        env = dict(invocation.env)
        mounts = invocation.mounts
        if gate is not None:
            env["AMLOCAL_GATE"] = self.map_path(gate)
            mounts = (*mounts, Mount(gate, read_only=False))
        uid, gid = self.step_user()
        self._hand_over(mounts, uid, gid)
        sources = self._secrets_for(uid, gid, invocation.files.root)

        def hand_back() -> None:
            for copy in sources.values():
                shutil.rmtree(copy, ignore_errors=True)
            if (uid, gid) != (self.uid, self.gid):
                self._hand_over(mounts, self.uid, self.gid)
        env["AMLOCAL_STDOUT_FILE"] = self.map_path(invocation.files.stdout)
        env["AMLOCAL_STDERR_FILE"] = self.map_path(invocation.files.stderr)
        host_config = api.create_host_config(
            mounts=self._docker_mounts(mounts, sources),
            mem_limit=f"{limits.memory_mb}m" if limits.memory_mb else None,
            memswap_limit=f"{limits.memory_mb}m" if limits.memory_mb else None,
            nano_cpus=int(limits.cpus * 1e9) if limits.cpus else None,
            network_mode=limits.network or None,
            shm_size=invocation.shm_size or None,
            cap_drop=["ALL"], security_opt=["no-new-privileges"], pids_limit=PIDS_LIMIT,
            init=True)  # an init as PID 1 passes SIGTERM on, so a stop is not a 10 s kill
        labels = {LABEL_WORKSPACE: str(self.layout.root), LABEL_RUN: invocation.pipeline_run_id,
                  LABEL_STEP_RUN: invocation.step_run_id}
        if ahead:
            labels[LABEL_MADE_BY] = _this_process()
        args = dict(image=image, command=["sh", "-c", LAUNCH, *invocation.argv], environment=env,
                    working_dir=self.map_path(invocation.cwd), user=f"{uid}:{gid}",
                    labels=labels, host_config=host_config, detach=True, stdin_open=False,
                    tty=False)
        return args, hand_back

    def start_ahead(self, invocation: StepInvocation, start: bool = True) -> bool:
        """Create the container of `invocation` now and (with `start`) start it held at its
        gate: its shell waits there and nothing of the step runs. A `start` of the same
        invocation then only opens the gate (or starts it first), which is what watch mode
        asks for while a burst of saves settles or ahead of the next save: a container's
        start costs ~0.3 s, mostly its network namespace (see `runner.executors.precreated`).
        False when the engine refused."""
        gate = new_gate(invocation.files.gate)
        args, hand_back = self._launch_setup(invocation, gate, ahead=True)

        def undo() -> None:
            hand_back()
            remove_gate(gate)
        api = self.client.api
        try:
            created = api.create_container(**args)
        except Exception:
            undo()
            return False
        made = keep_precreated(invocation.step_run_id, args, self._identity(args), created["Id"],
                               undo)
        if not start:
            made.left(CREATED)
            return True
        try:
            api.start(created["Id"])
        except Exception:
            made.left(FAILED)  # its step's start removes it and creates its own
            return False
        made.left(UP)
        return True

    def start_created_ahead(self, step_run_id: str) -> bool:
        """Start, held at its gate, the container `start_ahead` only created for
        `step_run_id` (a burst of saves began that reruns it). True when it is up."""
        return start_precreated(self.client.api, step_run_id)

    def _identity(self, args: Mapping[str, Any]) -> tuple:
        """The image id and mounted files of a container created with `args` (see
        `mounted_identity`): what a container made ahead must still be made of."""
        try:
            image_id = lookup(self.client, args["image"])[0]
        except Exception:
            image_id = None
        return mounted_identity(image_id, args)

    def discard_precreated(self, step_run_id: str) -> bool:
        """Remove the container made ahead for `step_run_id` if no start took it."""
        return discard_precreated(self.client.api, step_run_id)

    def start(self, invocation: StepInvocation, held: bool = False) -> ContainerStep:
        wait_precreated(invocation.step_run_id)  # its setup (same folders) is done first
        api = self.client.api
        gate = invocation.files.gate
        memory_mb = invocation.limits.memory_mb
        if invocation.step_run_id in precreated_step_runs():
            # set up as the container made ahead was: held at its gate (there already)
            args, hand_back = self._launch_setup(invocation, gate, ahead=True)
            container_id = take_precreated(api, invocation.step_run_id, args,
                                           lambda: self._identity(args))
            if container_id is not None:
                step = ContainerStep(api, container_id, memory_mb, gate, hand_back)
                if not held:
                    step.release()
                return step
        remove_gate(gate)  # one made for a container made ahead that does not fit, if any
        if held:
            new_gate(gate)
        args, hand_back = self._launch_setup(invocation, gate if held else None)
        try:
            container_id = api.create_container(**args)["Id"]
        except Exception as exc:
            hand_back()
            raise explain(exc, f"creating the container of step run {invocation.step_run_id}") from exc
        try:
            api.start(container_id)
        except Exception as exc:
            try:
                api.remove_container(container_id, force=True)
            except Exception:
                pass
            hand_back()
            raise explain(exc, f"starting the container of step run {invocation.step_run_id}") from exc
        return ContainerStep(api, container_id, memory_mb, gate if held else None, hand_back)

    def usage(self, step: StepRunRecord) -> Usage | None:
        """CPU and memory of the step's container, from the engine's stats."""
        api = self.client.api
        try:
            found = api.containers(filters={"label": f"{LABEL_STEP_RUN}={step.id}"})
            if not found:
                return None
            stats = api.stats(found[0]["Id"], stream=False, one_shot=True)
        except Exception:
            return None
        cpu = stats.get("cpu_stats", {})
        total = cpu.get("cpu_usage", {}).get("total_usage", 0)
        system = cpu.get("system_cpu_usage", 0)
        before = self._cpu_samples.get(step.id)
        self._cpu_samples[step.id] = (total, system)
        cores = cpu.get("online_cpus") or psutil.cpu_count() or 1
        percent = 0.0
        if before and system > before[1]:
            percent = (total - before[0]) / (system - before[1]) * cores * 100
        return Usage(percent, stats.get("memory_stats", {}).get("usage", 0) / 2**20)

    def stop_lost_steps(self, pipeline_run_id: str, steps: Iterable[StepRunRecord]) -> None:
        """Remove the containers of the lost run `pipeline_run_id` (they have no pid of ours),
        then hand what its steps wrote as another uid back to the workspace owner."""
        self.reap_orphans(keep_run=lambda run_id: run_id != pipeline_run_id)
        if self.step_user() != (self.uid, self.gid):
            for step in steps:
                writable = [step.run_dir, *(out.local_path for out in step.outputs.values())]
                self._hand_over([Mount(Path(p), read_only=False) for p in writable
                                 if os.path.lexists(p)], self.uid, self.gid)

    def reap_orphans(self, keep_run: Callable[[str | None], bool]) -> list[str]:
        """Remove this workspace's step containers whose run is over; returns their step run ids."""
        api = self.client.api
        removed = []
        for c in api.containers(all=True, filters={"label": f"{LABEL_WORKSPACE}={self.layout.root}"}):
            labels = c.get("Labels") or {}
            if keep_run(labels.get(LABEL_RUN)) or _maker_alive(labels.get(LABEL_MADE_BY)):
                continue
            try:
                api.remove_container(c["Id"], force=True)
                removed.append(labels.get(LABEL_STEP_RUN, c["Id"]))
            except Exception:
                pass
        return removed


def _this_process() -> str:
    """"pid:create time" of this process (see LABEL_MADE_BY)."""
    return f"{os.getpid()}:{psutil.Process(os.getpid()).create_time()!r}"


def _maker_alive(label: str | None) -> bool:
    """Whether the process a LABEL_MADE_BY value names still runs."""
    pid, _, created = (label or "").partition(":")
    try:
        return process_alive(int(pid), float(created))
    except ValueError:
        return False
