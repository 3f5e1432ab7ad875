"""Starting a prepared step's environment by hand (`amlocal debug`): the command line that
opens a process with the step's exact environment, as the executor would start the step.

Local: the step's command (or a shell) as a child process with the step's environment and
working directory. Docker: `docker run` of the step's image with the same mounts, environment
variables, user, working directory and limits as the step's container (interactive: `-it`);
for a root workspace the writable folders go to the step's uid for the session and come back
after, as around a step.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from runner.executors.base import StepInvocation

LABEL_DEBUG = "amlocal.debug"


@dataclass(frozen=True)
class Launch:
    """What to start: `argv` with environment `env` (None: this process's) in `cwd` (None: here)."""

    argv: tuple[str, ...]
    env: Mapping[str, str] | None
    cwd: Path | None


def _mount_option(mount: Any) -> str:
    """Docker's `--mount` text of a docker.types.Mount (a dict with Source, Target, ReadOnly)."""
    text = f"type=bind,source={mount['Source']},target={mount['Target']}"
    return text + (",readonly" if mount.get("ReadOnly") else "")


def docker_argv(executor: Any, invocation: StepInvocation, command: Sequence[str], tty: bool,
                sources: Mapping[Path, Path], uid: int, gid: int,
                listen_port: int | None = None) -> tuple[str, ...]:
    """`docker run` of the step's image running `command`, as DockerExecutor.start creates the
    step's container: its mounts (`sources`: host folders mounted in place of others), env,
    user `uid:gid`, working directory and limits; `listen_port` is published on 127.0.0.1."""
    from runner.executors.docker import LABEL_WORKSPACE, PIDS_LIMIT
    limits = invocation.limits
    argv = ["docker", "run", "--rm", "-i", *(["-t"] if tty else []), "--init",
            "--user", f"{uid}:{gid}", "--workdir", executor.map_path(invocation.cwd),
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--pids-limit", str(PIDS_LIMIT),
            "--label", f"{LABEL_WORKSPACE}.debug={executor.layout.root}",
            "--label", f"{LABEL_DEBUG}={invocation.step_run_id}"]
    if limits.memory_mb:
        argv += ["--memory", f"{limits.memory_mb}m", "--memory-swap", f"{limits.memory_mb}m"]
    if limits.cpus:
        argv += ["--cpus", f"{limits.cpus:g}"]
    if limits.network:
        argv += ["--network", limits.network]
    if invocation.shm_size:
        argv += ["--shm-size", invocation.shm_size]
    if listen_port is not None:
        argv += ["--publish", f"127.0.0.1:{listen_port}:{listen_port}"]
    for mount in executor._docker_mounts(invocation.mounts, dict(sources)):
        argv += ["--mount", _mount_option(mount)]
    for name, value in invocation.env.items():
        argv += ["--env", f"{name}={value}"]
    argv += [invocation.image or executor.base_image, *command]
    return tuple(argv)


@contextmanager
def launch(executor: Any, invocation: StepInvocation, command: Sequence[str], tty: bool,
           listen_port: int | None = None) -> Iterator[Launch]:
    """What starts `command` in the step's environment under `executor` (local or docker),
    valid inside the `with` (a root workspace's files are the step user's until it ends)."""
    if executor.name != "docker":
        yield Launch(tuple(command), dict(invocation.env), invocation.cwd)
        return
    uid, gid = executor.step_user()
    writable = [m for m in invocation.mounts if not m.read_only]
    executor._hand_over(writable, uid, gid)
    copy = invocation.files.root / "secrets"
    if (uid, gid) != (executor.uid, executor.gid):
        shutil.rmtree(copy, ignore_errors=True)  # a session before that did not end cleanly
    sources = executor._secrets_for(uid, gid, invocation.files.root)
    try:
        yield Launch(docker_argv(executor, invocation, command, tty, sources, uid, gid,
                                 listen_port), None, None)
    finally:
        for folder in sources.values():
            shutil.rmtree(folder, ignore_errors=True)
        if (uid, gid) != (executor.uid, executor.gid):
            executor._hand_over(writable, executor.uid, executor.gid)


def shell_command(executor: Any) -> tuple[str, ...]:
    """The interactive shell: $SHELL (or /bin/sh) here; in a container bash if the image has
    it, else sh."""
    if executor.name == "docker":
        return ("sh", "-c", "command -v bash >/dev/null 2>&1 && exec bash || exec sh")
    return (os.environ.get("SHELL") or "/bin/sh",)
