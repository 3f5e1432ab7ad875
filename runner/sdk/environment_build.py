"""`Environment.build(ws)`: build an environment's image ahead of its first step.

Where steps run in Docker, this builds (or finds) the image the Docker executor would use for
the environment, exactly as a step would, so the first run does not wait for it. Where they
run as local processes (no engine, or executor `local`), nothing is built, and the build log
says so. The build happens when `build` is called; `wait_for_completion` then prints its log and
status, as the SDK prints a cloud build's.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from runner.errors import RunnerError


class ImageBuildDetails:
    """The outcome of `Environment.build`: its status and build log."""

    def __init__(self, status: str, log: str, image: str | None) -> None:
        self._status = status
        self._log = log
        self.image = image
        self.log_url: str | None = None

    @property
    def status(self) -> str:
        """`Succeeded` or `Failed`."""
        return self._status

    def get_log(self) -> str:
        """The build's log."""
        return self._log

    def wait_for_completion(self, show_output: bool = True) -> "ImageBuildDetails":
        """Print the log (with `show_output`) and the final status; returns self."""
        if show_output:
            for line in self._log.splitlines():
                print(line)
            print(f"Image Build Status: {self._status}\n")
        return self

    def __repr__(self) -> str:
        return f"ImageBuildDetails(status={self._status!r}, image={self.image!r})"


def build_environment(environment: Any, workspace: Any) -> ImageBuildDetails:
    """Build the image of `environment` where the workspace's steps run in Docker."""
    from runner.engine.executor_choice import ExecutorChoiceError, choose_executor
    layout = workspace._local.layout
    try:
        choice = choose_executor(layout)
    except ExecutorChoiceError as exc:
        return ImageBuildDetails("Failed", f"{exc}\n", None)
    if choice.name != "docker":
        return ImageBuildDetails(
            "Succeeded", f"no image built: {choice.why}; the local executor runs steps with "
                         f"{sys.executable} and installs no packages\n", None)
    from runner.executors.registry import make_executor
    with tempfile.TemporaryDirectory(prefix="amlocal-build-") as folder:
        log_path = Path(folder) / "build.txt"
        log_path.touch()
        try:
            resolved = make_executor("docker", layout, choice.base_image).resolve_environment(
                environment._to_spec(), log_path)
        except RunnerError as exc:
            return ImageBuildDetails("Failed", log_path.read_text() + f"{exc}\n", None)
        text = log_path.read_text()
    text += f"image {resolved.image} is ready for environment {environment.name}\n"
    return ImageBuildDetails("Succeeded", text, resolved.image)
