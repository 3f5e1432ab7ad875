"""The framework packages an estimator adds (SKLearn, TensorFlow, PyTorch, Chainer): the version
the SDK pins where pip can get it for the image's Python, the newest one otherwise.

The SDK's pins date from Python 3.6 (`scikit-learn==0.20.3`, `torch==1.4.0`); most have no
wheel for a current Python. Before an image is built, each pin is tried with a dry run of pip
(no download, dependencies not followed); a pin pip cannot satisfy gives way to the bare
package name, and the step's preparation log says which it was and, after the build, which
version went into the image.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

PLATFORMS = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "linux")


def _dry_run(requirement: str, python_version: str, machine: str, same_python: bool,
             binary_only: bool, pip_options: tuple[str, ...]) -> tuple[bool, str]:
    """(pip can install `requirement`, its last line of output) without installing anything."""
    with tempfile.TemporaryDirectory(prefix="amlocal-pin-") as target:
        command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "install",
                   "--dry-run", "--no-deps", "--ignore-installed", "--target", target]
        if binary_only or not same_python:
            command.append("--only-binary=:all:")
        if not same_python:
            command += ["--python-version", python_version, "--implementation", "cp",
                        *[f"--platform={p}_{machine}" for p in PLATFORMS]]
        done = subprocess.run([*command, *pip_options, requirement], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return done.returncode == 0, (lines[-1] if lines else "")


def choose_framework_requirements(requirements: tuple[str, ...], framework: dict,
                                  python_version: str, machine: str, same_python: bool,
                                  pip_options: tuple[str, ...],
                                  log: TextIO) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """(requirements with unavailable pins relaxed, extra pip options, what was said in `log`).

    `framework` is an environment's `framework` entry: name, version and its pins, each
    `[pinned requirement, fallback requirement, binary only]`.
    """
    label = f"{framework.get('name')} {framework.get('version')} estimator"
    chosen = list(requirements)
    options: list[str] = []
    said: list[str] = []
    for pinned, fallback, binary_only in framework.get("pins") or []:
        if pinned not in chosen:
            continue  # the user's own requirement for this package wins, as in the SDK
        if binary_only:
            options.append(f"--only-binary={re.split(r'[=<>!~ ]', fallback, 1)[0]}")
        ok, detail = _dry_run(pinned, python_version, machine, same_python, binary_only,
                              pip_options)
        if ok:
            said.append(f"{label}: {pinned}, the version the SDK pins")
        else:
            chosen[chosen.index(pinned)] = fallback
            said.append(f"{label}: the SDK pins {pinned}, which pip cannot get for Python "
                        f"{python_version} ({machine}): {detail}; using the newest {fallback} "
                        "instead")
        log.write(said[-1] + "\n")
    return tuple(chosen), tuple(options), said


def report_installed(framework: dict, wheel_dir: Path, log: TextIO) -> list[str]:
    """Log (and return the line saying) which version of each framework package was fetched."""
    wanted = {_normal(re.split(r"[=<>!~ \[]", fallback, 1)[0])
              for _pinned, fallback, _binary in framework.get("pins") or []}
    found = []
    for wheel in sorted(Path(wheel_dir).glob("*.whl")):
        name, _, rest = wheel.name.partition("-")
        if _normal(name) in wanted:
            found.append(f"{name.replace('_', '-')} {rest.split('-', 1)[0]}")
    if not found:
        return []
    line = f"{framework.get('name')} {framework.get('version')} estimator: installs {', '.join(found)}"
    log.write(line + "\n")
    return [line]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
