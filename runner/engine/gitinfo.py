"""The git repository, branch, commit and dirty flag of a folder, for run records."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitInfo:
    """What a run records about the code it came from (all None outside a repository)."""

    repository: str | None = None
    branch: str | None = None
    commit: str | None = None
    dirty: bool | None = None

    def as_properties(self) -> dict[str, str]:
        """The SDK's `azureml.git.*` run properties (and their mlflow twins)."""
        if self.commit is None and self.branch is None:
            return {}
        props = {"azureml.git.repository_uri": self.repository or "",
                 "azureml.git.branch": self.branch or "",
                 "azureml.git.commit": self.commit or "",
                 "azureml.git.dirty": str(bool(self.dirty))}
        props.update({"mlflow.source.git.repoURL": props["azureml.git.repository_uri"],
                      "mlflow.source.git.branch": props["azureml.git.branch"],
                      "mlflow.source.git.commit": props["azureml.git.commit"]})
        return props


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _no_repository_around(folder: Path) -> bool:
    """True when neither `folder` nor a folder above it holds a `.git` and no $GIT_DIR or
    $GIT_WORK_TREE points git elsewhere: git would find no repository either, so it need not
    be started (a process start saved on every submit, a watcher's rerun among them)."""
    if "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        return False
    try:
        path = Path(folder).resolve()
    except OSError:
        return False
    return not any(os.path.lexists(p / ".git") for p in (path, *path.parents))


def read_git_info(folder: Path) -> GitInfo:
    """Git facts of `folder`; an empty GitInfo when it is not in a repository."""
    if _no_repository_around(folder):
        return GitInfo()
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return GitInfo()
    commit = _git(folder, "rev-parse", "HEAD")
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    repository = _git(folder, "config", "--get", "remote.origin.url") or top
    return GitInfo(repository, branch, commit, bool(status) if status is not None else None)
