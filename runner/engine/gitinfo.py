"""The git repository, branch, commit and dirty flag of a folder, for run records."""
from __future__ import annotations

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


def read_git_info(folder: Path) -> GitInfo:
    """Git facts of `folder`; an empty GitInfo when it is not in a repository."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return GitInfo()
    commit = _git(folder, "rev-parse", "HEAD")
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    repository = _git(folder, "config", "--get", "remote.origin.url") or top
    return GitInfo(repository, branch, commit, bool(status) if status is not None else None)
