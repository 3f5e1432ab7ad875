"""Where a workspace lives on disk and how it is laid out.

A workspace is a `.amlocal/` folder found like git finds a repository: `$AMLOCAL_HOME`, else
`.amlocal/` in the current directory or one of its parents. Inside it: the SQLite database,
one folder per emulated datastore, content-addressed snapshots and one folder per run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from store.errors import StoreError

WORKSPACE_DIRNAME = ".amlocal"
DATABASE_NAME = "amlocal.db"
DEFAULT_DATASTORES = ("workspaceblobstore", "workspacefilestore")


@dataclass(frozen=True)
class StepRunFiles:
    """The files of one step run's folder: what the runner writes and reads back.

    The step's own process writes only its logs and events (and its artifacts folder); the
    working copy `wd/` is where it runs, removed when it ends, unless it failed: then it stays
    for `amlocal debug` until `amlocal gc` removes the run.
    """

    root: Path

    @property
    def stdout(self) -> Path:
        return self.root / "stdout.txt"

    @property
    def stderr(self) -> Path:
        return self.root / "stderr.txt"

    @property
    def events(self) -> Path:
        """The JSON-lines file of what the step logged (metrics, tags, artifacts)."""
        return self.root / "events.jsonl"

    @property
    def preparation(self) -> Path:
        """Limits notes and the image build log, written before the step starts."""
        return self.root / "preparation.txt"

    @property
    def artifacts(self) -> Path:
        """Files kept with the step run: its `./outputs`, `./logs` and uploads."""
        return self.root / "artifacts"

    @property
    def registrations(self) -> Path:
        """Files the step registers as models, staged until the step succeeds."""
        return self.root / "registrations"

    @property
    def registry_view(self) -> Path:
        """What the step can see of the workspace's registries (written before it starts)."""
        return self.root / "registry.json"

    @property
    def workdir(self) -> Path:
        """The step's private working copy of its snapshot."""
        return self.root / "wd"

    @property
    def gate(self) -> Path:
        """The FIFO a step started warm waits on until a node is free."""
        return self.root / "gate.fifo"

    @property
    def logs(self) -> tuple[Path, Path, Path]:
        """Preparation, stdout and stderr: what a follower of the step prints, in that order."""
        return self.preparation, self.stdout, self.stderr


class NoWorkspaceError(StoreError):
    """No `.amlocal/` folder was found and none may be created here."""


@dataclass(frozen=True)
class WorkspaceLayout:
    """The paths of one workspace folder."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / DATABASE_NAME

    @property
    def datastores_dir(self) -> Path:
        return self.root / "datastores"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "snapshots"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def models_dir(self) -> Path:
        """Registered models' files: `models/<name>/<version>/`."""
        return self.root / "models"

    def parallel_cache_dir(self, key: str) -> Path:
        """Where a ParallelRunStep definition `key` keeps its mini-batch results between runs."""
        return self.root / "parallel_cache" / key

    def datastore_dir(self, name: str) -> Path:
        """The folder that stands for datastore `name`."""
        return self.datastores_dir / name

    def pipeline_run_dir(self, pipeline_run_id: str) -> Path:
        return self.runs_dir / pipeline_run_id

    def step_run_dir(self, pipeline_run_id: str, step_run_id: str) -> Path:
        return self.runs_dir / pipeline_run_id / step_run_id

    def run_artifacts_dir(self, pipeline_run_id: str) -> Path:
        """Files kept with a pipeline run itself (what steps upload through `run.parent`)."""
        return self.pipeline_run_dir(pipeline_run_id) / "artifacts"

    def runner_log(self, pipeline_run_id: str) -> Path:
        """Where the runner process of a run writes what it says."""
        return self.pipeline_run_dir(pipeline_run_id) / "runner.log"

    @property
    def manifests_dir(self) -> Path:
        """Manifests of hashed data trees (inputs and outputs), for saying what changed."""
        return self.root / "manifests"

    @property
    def notebooks_dir(self) -> Path:
        """Executed notebooks (`amlocal run NOTEBOOK.ipynb`), with their outputs."""
        return self.root / "notebooks"

    def ensure(self) -> None:
        """Create the folders a workspace needs (idempotent)."""
        for d in (self.root, self.datastores_dir, self.snapshots_dir, self.runs_dir):
            d.mkdir(parents=True, exist_ok=True)
        for name in DEFAULT_DATASTORES:
            self.datastore_dir(name).mkdir(exist_ok=True)


def find_workspace(start: Path | None = None) -> WorkspaceLayout | None:
    """The workspace for `start` (default: the current directory), or None if there is none."""
    home = os.environ.get("AMLOCAL_HOME")
    if home:
        return WorkspaceLayout(Path(home).expanduser().resolve())
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / WORKSPACE_DIRNAME
        if candidate.is_dir():
            return WorkspaceLayout(candidate)
    return None


def find_or_create_workspace(start: Path | None = None) -> tuple[WorkspaceLayout, bool]:
    """The workspace for `start`, creating `.amlocal/` there if none exists.

    Returns the layout and whether it was created now (so the caller can say so).
    """
    found = find_workspace(start)
    if found is not None:
        created = not found.db_path.exists()
        found.ensure()
        return found, created
    layout = WorkspaceLayout((Path(start or os.getcwd()) / WORKSPACE_DIRNAME).resolve())
    layout.ensure()
    return layout, True


def require_workspace(start: Path | None = None) -> WorkspaceLayout:
    """The existing workspace for `start`; raises `NoWorkspaceError` when there is none."""
    found = find_workspace(start)
    if found is None or not found.db_path.exists():
        where = Path(start or os.getcwd()).resolve()
        raise NoWorkspaceError(
            f"no amlocal workspace in {where} or its parents (and AMLOCAL_HOME is not set); "
            "run a pipeline here with `amlocal run PIPELINE.py` to create one")
    return found
