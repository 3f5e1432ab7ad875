"""Talking to the Docker engine: one client per process, and errors a user can act on.

docker-py is imported here and only here, lazily, so commands that never run a step do not
pay for it.
"""
from __future__ import annotations

import os
import threading
from typing import Any

from runner.errors import RunnerError

DEFAULT_BASE_IMAGE = "python:3.11-slim"
_PING_TIMEOUT_SECONDS = 3
_API_TIMEOUT_SECONDS = 120

_client: Any = None
_lock = threading.Lock()
_versions: dict[int, str] = {}  # id(client) → the engine's version


class DockerUnavailable(RunnerError):
    """No Docker engine answers, so steps cannot run in containers."""


class DockerProblem(RunnerError):
    """The engine answered but refused or failed (image missing, disk full, …)."""


def engine_address() -> str:
    """Where the engine is looked for ($DOCKER_HOST, else the default socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _unavailable(exc: BaseException) -> DockerUnavailable:
    return DockerUnavailable(
        f"no Docker engine answered at {engine_address()} ({type(exc).__name__}: {exc}); "
        "start one (e.g. `sudo systemctl start docker`, or scripts/ensure-docker.sh here) "
        "or run steps as local processes with --executor local")


def docker_client() -> Any:
    """The process-wide docker-py client; raises DockerUnavailable when no engine answers."""
    global _client
    with _lock:
        if _client is None:
            try:
                import docker
            except ImportError as exc:  # the dependency is declared; a broken install says so
                raise DockerUnavailable(f"the docker Python package is missing ({exc}); "
                                        "reinstall amlocal") from exc
            try:
                client = docker.from_env(timeout=_API_TIMEOUT_SECONDS, max_pool_size=64)
                client.api.timeout = _PING_TIMEOUT_SECONDS
                client.ping()
                client.api.timeout = _API_TIMEOUT_SECONDS
                if client.api.base_url.startswith("http+docker://"):
                    # a local socket: no proxy or .netrc applies, so requests need not look
                    # them up in the environment on every call (~1 ms each)
                    client.api.trust_env = False
            except Exception as exc:
                raise _unavailable(exc) from exc
            _client = client
        return _client


def engine_answers() -> tuple[bool, str]:
    """(True, engine version) when an engine answers, else (False, why not).

    The version is asked once per client: watch mode asks before every rerun, and an engine
    that goes away later fails the step that needs it with its own clear error.
    """
    try:
        client = docker_client()
        if id(client) not in _versions:
            _versions[id(client)] = str(client.api.version().get("Version", "?"))
        return True, _versions[id(client)]
    except DockerUnavailable as exc:
        return False, str(exc)
    except Exception as exc:
        return False, str(_unavailable(exc))


def explain(exc: BaseException, doing: str) -> RunnerError:
    """One clear error for a failure of the engine while `doing` something."""
    text = str(getattr(exc, "explanation", None) or exc)
    if "no space left on device" in text.lower():
        return DockerProblem(f"{doing}: Docker ran out of disk space ({text.strip()}); free some "
                             "with `docker system prune` or `docker image prune`, then rerun")
    name = type(exc).__name__
    if name in ("ConnectionError", "ReadTimeout", "ConnectTimeout", "ProtocolError"):
        return _unavailable(exc)
    return DockerProblem(f"{doing}: {text.strip()}")
