"""Step environments → Docker images, built once per distinct environment and reused.

An environment (base image, pip packages, conda packages that pip can satisfy) is turned
into a recipe; the recipe's content hash (with the base image's *id*, not its tag) names the
image `amlocal-env:<hash>`. Packages are fetched on the host with pip (so the host's pip
configuration, index and certificates apply) into a wheelhouse, and installed in the image
with no network. A step with no packages runs in the base image itself.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, TextIO

from runner.executors.docker_engine import DockerProblem, explain
from runner.executors.framework_pins import choose_framework_requirements, report_installed
from runner.executors.image_cache import lookup
from runner.spec import EnvironmentSpec

IMAGE_REPOSITORY = "amlocal-env"
WHEELHOUSE = "/tmp/amlocal-wheels"
_CONDA_ONLY = {"pip", "python", "setuptools", "wheel"}


class ImageNotReady(DockerProblem):
    """The image is not on this machine and this caller may not pull or build it."""


class UnbuildableEnvironment(DockerProblem):
    """An environment amlocal cannot build (a conda-only package, a Dockerfile, …)."""


def conda_to_pip(spec: str) -> str | None:
    """A conda package spec as a pip requirement (None for conda's own python/pip)."""
    text = spec.split("::", 1)[-1].strip()
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", text)
    if not match:
        raise UnbuildableEnvironment(f"conda package {spec!r} is not a package spec")
    name, rest = match.group(1), match.group(2).strip()
    if name.lower() in _CONDA_ONLY:
        return None
    if not rest:
        return name
    if rest.startswith("=") and not rest.startswith("=="):
        version = rest[1:].split("=", 1)[0]  # name=1.2=build: the build string has no pip meaning
        if re.fullmatch(r"[0-9][0-9.]*", version):
            return f"{name}=={version}" if version.count(".") >= 2 else f"{name}=={version}.*"
        return f"{name}=={version}"
    return f"{name}{rest}"


@dataclass(frozen=True)
class ImageRecipe:
    """What an environment's image holds: a base image and the pip requirements on top."""

    base_image: str
    requirements: tuple[str, ...] = ()
    pip_options: tuple[str, ...] = ()
    name: str = "environment"
    framework: str = ""  # a framework estimator's pins (JSON), relaxed where pip cannot get them
    # Where base_image comes from, for the advice when it is missing: "" the configured base
    # image, "environment" the Environment's own, "image_map:NAME" the image map's for NAME.
    origin: str = ""

    @staticmethod
    def from_environment(environment: EnvironmentSpec | None, default_base: str) -> "ImageRecipe":
        """The recipe of a step's environment (`default_base` where it names no image)."""
        env = environment or EnvironmentSpec()
        if env.base_dockerfile:
            raise UnbuildableEnvironment(
                f"environment {env.name}: docker.base_dockerfile is not built by amlocal; "
                "build that image yourself and set environment.docker.base_image to its tag")
        base = env.base_image or default_base
        origin = "environment" if env.base_image else ""
        if env.user_managed:
            return ImageRecipe(base, name=env.name, origin=origin)
        requirements = [r for r in (conda_to_pip(c) for c in env.conda_packages) if r]
        requirements += [str(p) for p in env.pip_packages]
        return ImageRecipe(base, tuple(requirements), tuple(env.pip_options), env.name,
                           json.dumps(dict(env.framework), sort_keys=True) if env.framework else "",
                           origin)

    def mapped(self, image_map: Mapping[str, str], log: TextIO) -> "ImageRecipe":
        """This recipe on the local image `image_map` gives for its base image (itself when
        the map has none), saying so in the preparation log."""
        local = image_map.get(self.base_image)
        if not local:
            return self
        log.write(f"image {self.base_image} is mapped to {local} (image_map)\n")
        return replace(self, base_image=local, origin=f"image_map:{self.base_image}")

    def missing_advice(self) -> str:
        """What to do when the base image is neither here nor pullable, by where it came from."""
        if self.origin == "environment":
            return (f"pull or build it, or run the environment on an image you have: "
                    f"`amlocal config image_map add {self.base_image}=LOCAL` (LOCAL e.g. "
                    f"amlocal/python-base:bookworm; --user for every project)")
        if self.origin.startswith("image_map:"):
            return (f"it is image_map's image for {self.origin.removeprefix('image_map:')}: pull "
                    f"or build it, or change the entry with `amlocal config image_map add NAME=LOCAL`")
        return ("pull or build it, or choose an image you have with AMLOCAL_BASE_IMAGE or "
                "`amlocal config base_image IMAGE`")

    def content_hash(self, base_image_id: str) -> str:
        text = json.dumps({"base": base_image_id, "requirements": list(self.requirements),
                           "pip_options": list(self.pip_options)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ImageBuilder:
    """Finds or builds the image of a recipe; safe to call from many steps and runners at once."""

    client: Any
    state_dir: Path  # the workspace's `images/` folder: wheelhouses, locks, probes
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def _thread_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def base_image_id(self, name: str, log: TextIO, fetch: bool = True, advice: str = "") -> str:
        """The id of image `name`, pulling it once if it is not here (and `fetch` allows);
        `advice` ends the error when it can be neither found nor pulled."""
        import docker.errors
        with self._thread_lock("base:" + name):
            try:
                return lookup(self.client, name)[0]
            except docker.errors.ImageNotFound:
                if not fetch:
                    raise ImageNotReady(f"image {name} is not here yet")
            except Exception as exc:
                raise explain(exc, f"looking up image {name}") from exc
            log.write(f"pulling {name}\n")
            log.flush()
            try:
                return self.client.images.pull(name).id
            except Exception as exc:
                reason = str(getattr(exc, "explanation", None) or exc).strip()
                raise DockerProblem(
                    f"image {name} is not on this machine and could not be pulled ({reason}); "
                    f"{advice or ImageRecipe(name).missing_advice()}") from exc

    def ensure(self, recipe: ImageRecipe, log: TextIO, build: bool = True) -> tuple[str, str]:
        """(image reference, image id) to run a step of `recipe` in; builds it if needed.

        With `build=False` an image that is not here yet raises ImageNotReady instead.
        """
        base_id = self.base_image_id(recipe.base_image, log, fetch=build,
                                     advice=recipe.missing_advice())
        if not recipe.requirements:
            log.write(f"environment {recipe.name}: no packages to add; using {recipe.base_image} "
                      f"({base_id[:19]})\n")
            return recipe.base_image, base_id
        digest = recipe.content_hash(base_id)
        tag = f"{IMAGE_REPOSITORY}:{digest[:16]}"
        with self._thread_lock(digest), self._file_lock(digest):
            found = self._existing(tag)
            if not found and not build:
                raise ImageNotReady(f"image {tag} of environment {recipe.name} is not built yet")
            if found:
                installed = self._label(tag, "amlocal.requirements") or list(recipe.requirements)
                log.write(f"environment {recipe.name}: using image {tag} built before "
                          f"({', '.join(installed)})\n")
                for line in self._label(tag, "amlocal.framework") or []:
                    log.write(f"{line} (when the image was built)\n")
                return tag, found
            started = time.monotonic()
            log.write(f"environment {recipe.name}: building image {tag} from {recipe.base_image} "
                      f"with {', '.join(recipe.requirements)}\n")
            log.flush()
            image_id = self._build(recipe, base_id, tag, digest, log)
            log.write(f"built {tag} in {time.monotonic() - started:.1f} s\n")
            return tag, image_id

    def existing(self, tag: str) -> str | None:
        """The id of image `tag` when it is on this machine (None when it is not)."""
        return self._existing(tag)

    def _existing(self, tag: str) -> str | None:
        import docker.errors
        try:
            return lookup(self.client, tag)[0]
        except docker.errors.ImageNotFound:
            return None
        except Exception as exc:
            raise explain(exc, f"looking up image {tag}") from exc

    def _label(self, tag: str, label: str) -> list[str] | None:
        """The JSON list in label `label` of image `tag` (None when it has none)."""
        try:
            text = lookup(self.client, tag)[1].get(label)
            return list(json.loads(text)) if text else None
        except Exception:
            return None

    def _file_lock(self, digest: str) -> "_FileLock":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return _FileLock(self.state_dir / f"{digest[:16]}.lock")

    def image_python(self, base_id: str) -> tuple[str, str]:
        """(major.minor, machine) of the Python in image `base_id`, probed once and remembered."""
        probe = self.state_dir / f"python-{base_id.split(':')[-1][:16]}.json"
        if probe.exists():
            found = json.loads(probe.read_text())
            return found["version"], found["machine"]
        code = "import sys, platform; print('%d.%d' % sys.version_info[:2], platform.machine())"
        try:
            out = self.client.containers.run(base_id, ["python3", "-c", code], remove=True,
                                             network_mode="none")
        except Exception as exc:
            raise DockerProblem(f"image {base_id[:19]} has no working python3 ({exc}); "
                                "steps need an image with Python 3") from exc
        version, machine = out.decode().split()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        probe.write_text(json.dumps({"version": version, "machine": machine}))
        return version, machine

    def _wheelhouse(self, recipe: ImageRecipe, base_id: str, target: Path,
                    log: TextIO) -> tuple[tuple[str, ...], list[str]]:
        """Fetch the requirements (and their dependencies) as wheels, on the host; returns the
        requirements fetched (a framework's pins relaxed where pip cannot get them) and what
        the build log said about the framework's packages."""
        version, machine = self.image_python(base_id)
        host = "%d.%d" % sys.version_info[:2]
        same_python = version == host and machine == platform.machine()
        requirements, options, notes = recipe.requirements, recipe.pip_options, []
        if recipe.framework:
            requirements, extra, notes = choose_framework_requirements(
                recipe.requirements, json.loads(recipe.framework), version, machine, same_python,
                recipe.pip_options, log)
            options = (*options, *extra)
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
        if same_python:
            command = [*pip, "wheel", "--wheel-dir", str(target), *options, *requirements]
        else:
            command = [*pip, "download", "--dest", str(target), "--only-binary=:all:",
                       "--python-version", version, "--implementation", "cp",
                       *[f"--platform={p}_{machine}" for p in
                         ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "linux")],
                       *options, *requirements]
        log.write("$ " + " ".join(command[1:]) + "\n")
        log.flush()
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log.write(done.stdout)
        if done.returncode != 0:
            lines = [line for line in done.stdout.splitlines() if "ERROR" in line]
            raise UnbuildableEnvironment(
                f"environment {recipe.name}: pip could not get {', '.join(requirements)} "
                f"for Python {version} ({lines[-1].strip() if lines else 'see the build log'}); "
                "a conda package pip cannot satisfy has no local equivalent")
        if recipe.framework:
            notes += report_installed(json.loads(recipe.framework), target, log)
        return requirements, notes

    def _build(self, recipe: ImageRecipe, base_id: str, tag: str, digest: str, log: TextIO) -> str:
        context = self.state_dir / f"build-{digest[:16]}"
        shutil.rmtree(context, ignore_errors=True)
        (context / "wheels").mkdir(parents=True)
        try:
            requirements, notes = self._wheelhouse(recipe, base_id, context / "wheels", log)
            (context / "wheels" / "requirements.txt").write_text("\n".join(requirements) + "\n")
            (context / "Dockerfile").write_text(
                f"FROM {base_id}\n"
                f"COPY wheels {WHEELHOUSE}\n"
                "ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore "
                "PIP_DISABLE_PIP_VERSION_CHECK=1\n"
                f"RUN python3 -m pip install --no-index --no-cache-dir --find-links {WHEELHOUSE} "
                f"-r {WHEELHOUSE}/requirements.txt && rm -rf {WHEELHOUSE}\n")
            labels = {"amlocal.env-hash": digest, "amlocal.environment": recipe.name,
                      "amlocal.requirements": json.dumps(list(requirements)),
                      "amlocal.framework": json.dumps(notes)}
            errors: list[str] = []
            try:
                for chunk in self.client.api.build(path=str(context), tag=tag, rm=True, forcerm=True,
                                                   network_mode="none", pull=False, decode=True,
                                                   labels=labels):
                    if "stream" in chunk:
                        log.write(chunk["stream"])
                        log.flush()
                    if "error" in chunk:
                        errors.append(chunk["error"].strip())
                        log.write(chunk["error"] + "\n")
            except Exception as exc:
                raise explain(exc, f"building image {tag}") from exc
            if errors:
                raise explain(RuntimeError(errors[-1]), f"building image {tag} for environment "
                              f"{recipe.name} (log: the step's image build log)")
            return self.client.images.get(tag).id
        finally:
            shutil.rmtree(context, ignore_errors=True)


class _FileLock:
    """An exclusive lock on a file, held across processes (two runners building one image)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def __enter__(self) -> "_FileLock":
        self._file = open(self.path, "a")
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
