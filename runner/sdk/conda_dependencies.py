"""`CondaDependencies`: the conda and pip packages of an environment, read from and written
to conda YAML files (`conda_dependencies.yml`, `environment.yml`) as the SDK does.

amlocal builds an image from the pip packages (and the conda packages pip can satisfy); the
Python version is recorded with the step.
"""
from __future__ import annotations

from runner.spec import SDK_DEFAULT_PYTHON_VERSION

import os
import re
from pathlib import Path
from typing import Any

from runner.step_runtime.exceptions import UserErrorException

DEFAULT_PYTHON_VERSION = SDK_DEFAULT_PYTHON_VERSION
_CORE_TYPES = ("cpu", "gpu")
TENSORFLOW_DEFAULT_VERSION = "2.2.0"
CNTK_DEFAULT_VERSION = "2.7"
_NAME_END = re.compile(r"[\s<>=!~\[;@]")


class CondaDependencies:
    """Conda and pip packages of an environment."""

    DEFAULT_NUMBER_OF_CONDA_PACKAGES = 0
    DEFAULT_NUMBER_OF_PIP_PACKAGES = 0

    def __init__(self, conda_dependencies_file_path: str | None = None, _underlying_structure: Any = None) -> None:
        self._python_version = DEFAULT_PYTHON_VERSION
        self._channels: list[str] = ["conda-forge"]
        self._conda: list[str] = []
        self._pip: list[str] = []
        self._pip_options: list[str] = []
        if conda_dependencies_file_path:
            self._read_conda_file(Path(conda_dependencies_file_path))

    def _read_conda_file(self, path: Path) -> None:
        """Read the `channels:` and `dependencies:` lists (with a nested `- pip:` list) of a
        conda YAML file, whether its list items are indented under their key or not."""
        if not path.is_file():
            raise UserErrorException(f"conda specification {path} does not exist")
        section, pip_indent = None, None
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip())
            item = line.strip()
            if indent == 0 and not item.startswith("-"):
                section, pip_indent = item.split(":", 1)[0].strip(), None
                continue
            if not item.startswith("-"):
                continue
            value = item[1:].strip().strip("'\"")
            if section == "channels":
                self.add_channel(value)
            elif section == "dependencies":
                if pip_indent is not None and indent > pip_indent:
                    if value.startswith("-"):
                        self.set_pip_option(value)
                    else:
                        self._pip.append(value)
                elif value.replace(" ", "") == "pip:":
                    pip_indent = indent
                else:
                    pip_indent = None
                    if re.match(r"python\s*[=<>]", value):
                        self._python_version = re.split(r"[=<>]+", value, 1)[1].strip()
                    else:
                        self._conda.append(value)

    @staticmethod
    def create(pip_indexurl: str | None = None, pip_packages: list[str] | None = None,
               conda_packages: list[str] | None = None, python_version: str = DEFAULT_PYTHON_VERSION,
               pin_sdk_version: bool = True) -> "CondaDependencies":
        deps = CondaDependencies()
        deps._python_version = python_version
        for p in pip_packages or []:
            deps.add_pip_package(p)
        for p in conda_packages or []:
            deps.add_conda_package(p)
        if pip_indexurl:
            deps.set_pip_index_url(pip_indexurl)
        return deps

    def add_pip_package(self, pip_package: str) -> None:
        if pip_package not in self._pip:
            self._pip.append(pip_package)

    def add_conda_package(self, conda_package: str) -> None:
        if conda_package not in self._conda:
            self._conda.append(conda_package)

    def add_channel(self, channel: str) -> None:
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_pip_package(self, pip_package: str) -> None:
        self._pip = [p for p in self._pip if p != pip_package]

    def remove_conda_package(self, conda_package: str) -> None:
        self._conda = [p for p in self._conda if p != conda_package]

    def remove_channel(self, channel: str) -> None:
        self._channels = [c for c in self._channels if c != channel]

    def set_pip_option(self, pip_option: str) -> None:
        if pip_option not in self._pip_options:
            self._pip_options.append(pip_option)

    def remove_pip_option(self, pip_option: str) -> None:
        self._pip_options = [o for o in self._pip_options if o != pip_option]

    def set_pip_index_url(self, index_url: str) -> None:
        self.set_pip_option(f"--index-url {index_url}")

    def set_pip_requirements(self, pip_requirements: list[str]) -> None:
        """Replace the whole pip section (as `Environment.from_pip_requirements` does)."""
        self._pip, self._pip_options = [], []
        for requirement in pip_requirements:
            text = requirement.split("#", 1)[0].strip()
            if text.startswith("-"):
                self.set_pip_option(text)
            elif text:
                self._pip.append(text)

    @staticmethod
    def merge_requirements(requirements: list[str]) -> list[str]:
        """One requirement per package, its version constraints joined with commas."""
        merged: dict[str, list[str]] = {}
        for requirement in requirements:
            name = _NAME_END.split(requirement.strip(), 1)[0]
            merged.setdefault(name, []).append(requirement.strip()[len(name):].strip())
        return [name + ",".join(c for c in constraints if c) for name, constraints in merged.items()]

    @staticmethod
    def sdk_origin_url() -> str:
        """The package index the SDK comes from (PyPI: amlocal configures no other)."""
        return "https://pypi.python.org/simple"

    def get_default_number_of_packages(self) -> tuple[int, int]:
        """(conda, pip) packages a fresh CondaDependencies has: none besides Python."""
        return self.DEFAULT_NUMBER_OF_CONDA_PACKAGES, self.DEFAULT_NUMBER_OF_PIP_PACKAGES

    @staticmethod
    def _check_core_type(core_type: str) -> str:
        if core_type not in _CORE_TYPES:
            raise UserErrorException(f"Invalid core type {core_type}. Only accept 'cpu' or 'gpu'")
        return "-gpu" if core_type == "gpu" else ""

    def add_tensorflow_pip_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        """Add `tensorflow[-gpu]==<version>` (2.2.0 unless given) to the pip packages."""
        suffix = self._check_core_type(core_type)
        self._pip = [p for p in self._pip if not p.startswith("tensorflow")]
        self.add_pip_package(f"tensorflow{suffix}=={version or TENSORFLOW_DEFAULT_VERSION}")

    def add_tensorflow_conda_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        """Add `tensorflow[-gpu]=<version>` (2.2.0 unless given) to the conda packages."""
        suffix = self._check_core_type(core_type)
        self._conda = [p for p in self._conda if not p.startswith("tensorflow")]
        self.add_conda_package(f"tensorflow{suffix}={version or TENSORFLOW_DEFAULT_VERSION}")

    def add_cntk_package(self, core_type: str = "cpu") -> None:
        """Add `cntk[-gpu]==2.7` to the pip packages."""
        suffix = self._check_core_type(core_type)
        self._pip = [p for p in self._pip if not p.startswith("cntk")]
        self.add_pip_package(f"cntk{suffix}=={CNTK_DEFAULT_VERSION}")

    def set_python_version(self, version: str) -> None:
        self._python_version = version

    def get_python_version(self) -> str:
        return self._python_version

    @property
    def pip_packages(self) -> list[str]:
        return list(self._pip)

    @property
    def conda_packages(self) -> list[str]:
        return list(self._conda)

    @property
    def conda_channels(self) -> list[str]:
        return list(self._channels)

    @property
    def pip_options(self) -> list[str]:
        return list(self._pip_options)

    def as_dict(self) -> dict:
        deps: list[Any] = [f"python={self._python_version}", *self._conda]
        if self._pip or self._pip_options:
            deps.append({"pip": [*self._pip_options, *self._pip]})
        return {"name": "project_environment", "channels": list(self._channels), "dependencies": deps}

    def serialize_to_string(self) -> str:
        lines = ["name: project_environment", "channels:", *[f"  - {c}" for c in self._channels],
                 "dependencies:", f"  - python={self._python_version}", *[f"  - {c}" for c in self._conda]]
        if self._pip or self._pip_options:
            lines += ["  - pip:", *[f"    - {p}" for p in (*self._pip_options, *self._pip)]]
        return "\n".join(lines) + "\n"

    def save(self, path: str | None = None) -> str:
        """Write the conda YAML to `path` (default `conda_dependencies.yml` here)."""
        target = path or "conda_dependencies.yml"
        Path(target).write_text(self.serialize_to_string())
        return target

    def save_to_file(self, base_directory: str, conda_file_path: str | None = None) -> str:
        """Deprecated form of `save`: write to `base_directory/conda_file_path` (default
        `.azureml/conda_dependencies.yml`); returns that relative path."""
        relative = conda_file_path or ".azureml/conda_dependencies.yml"
        target = os.path.join(os.path.abspath(base_directory), relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        self.save(target)
        return relative


