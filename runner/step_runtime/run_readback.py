"""What a run says about itself: identity, links, details, and what it logged, read back.

Inside a step, `Run.get_context()` knows its ids and names from the environment the runner set,
and everything the step recorded from its own event file: `get_tags()`, `get_properties()` and
`get_metrics()` give back what this step set and logged (the Azure service would also show
what others set on the run), `get_file_names()` and `download_file()` the files uploaded so far.
Pipeline and step runs read on the client side (`runner.sdk.runs`) answer the same calls from
the store instead.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import warnings
from pathlib import Path
from typing import Any, Iterator

from runner.step_runtime import contract
from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.portal import WorkspacePortal

METRIC_KINDS = frozenset({"scalar", "list", "row", "table", "image"})


def group_metrics(values: list[tuple[str, Any]]) -> dict[str, Any]:
    """The SDK's `get_metrics` shape: a name logged once is its value, more often a list."""
    grouped: dict[str, list[Any]] = {}
    for name, value in values:
        grouped.setdefault(name, []).append(value)
    return {n: v[0] if len(v) == 1 else v for n, v in grouped.items()}


class RunReadback(WorkspacePortal):
    """The read side of `azureml.core.Run` for a run seen from inside its step."""

    _SDK_QUALNAME = "azureml.core.run.Run"
    _run_id: str
    _experiment: Any
    _events_path: str | None
    _artifacts_dir: str | None
    _parent_id: str | None

    @property
    def id(self) -> str:
        return self._run_id

    # ----------------------------------------------------------------- identity
    @property
    def identity(self) -> str:
        """`<class>#<run id>`, the SDK's logging identity of a run."""
        return f"{type(self).__name__}{self.DELIM}{self.id}"

    @property
    def _is_step_context(self) -> bool:
        return self.id == os.environ.get(contract.RUN_ID)

    @property
    def name(self) -> str | None:
        """The step's name for a step's own run; None for its pipeline run seen from a step."""
        return os.environ.get(contract.STEP_NAME) if self._is_step_context else None

    @property
    def display_name(self) -> str | None:
        return self.name

    @property
    def description(self) -> str | None:
        return None

    @property
    def type(self) -> str:
        """`azureml.StepRun` for a step's run, `azureml.PipelineRun` for its parent."""
        return "azureml.StepRun" if self._parent_id else "azureml.PipelineRun"

    @property
    def status(self) -> str:
        return self.get_status()

    def get_status(self) -> str:
        return "Running"

    def get_detailed_status(self) -> dict[str, Any]:
        """{"status": …, "details": …} as the SDK returns it (no queueing details locally)."""
        return {"status": self.get_status(), "details": None}

    def _portal_workspace(self) -> tuple[str, str, str]:
        return (os.environ.get(contract.SUBSCRIPTION, ""), os.environ.get(contract.RESOURCE_GROUP, ""),
                os.environ.get(contract.WORKSPACE_NAME, ""))

    def get_portal_url(self) -> str:
        """This run's link in the SDK's layout: `amlocal://portal/runs/<id>?wsid=…`."""
        return self._portal_link(self.RUN_PATH.format(self.id))

    @classmethod
    def get_submitted_run(cls, **kwargs: Any) -> Any:
        """Deprecated alias of `get_context()`, kept by the SDK."""
        warnings.warn("get_submitted_run() is deprecated; use get_context()", DeprecationWarning,
                      stacklevel=2)
        return cls.get_context(**kwargs)  # type: ignore[attr-defined]

    @staticmethod
    def get(workspace: Any, run_id: str) -> Any:
        """The run `run_id` of `workspace` (a pipeline run or a step run)."""
        return workspace.get_run(run_id)

    @staticmethod
    def list(experiment: Any, type: str | None = None, tags: Any = None, properties: Any = None,
             status: str | None = None, include_children: bool = False,
             _rehydrate_runs: bool = True) -> Iterator[Any]:
        """The runs of `experiment` (newest first), optionally only those with `status`."""
        for run in experiment.get_runs(type=type, tags=tags, properties=properties,
                                       include_children=include_children):
            if status is None or run.get_status() == status:
                yield run

    # ----------------------------------------------------------------- what it recorded
    def _own_events(self) -> list[dict]:
        """The events this process's step wrote for this run (flushed first)."""
        if not self._events_path:
            return []
        self.flush()  # type: ignore[attr-defined]
        try:
            text = Path(self._events_path).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        events = []
        for line in text.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("run") == self.id:
                events.append(event)
        return events

    def _recorded(self, kind: str) -> dict[str, str]:
        return {str(e.get("name")): str(e.get("value")) for e in self._own_events()
                if e.get("kind") == kind}

    def get_tags(self) -> dict[str, str]:
        """The tags set on this run by its step."""
        return self._recorded("tag")

    @property
    def tags(self) -> dict[str, str]:
        return self.get_tags()

    def get_properties(self) -> dict[str, str]:
        """The properties added to this run by its step."""
        return self._recorded("property")

    @property
    def properties(self) -> dict[str, str]:
        return self.get_properties()

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: Any = None,
                    populate: bool = False) -> dict[str, Any]:
        """The metrics this step logged to this run, in the SDK's shape."""
        return group_metrics([(e["name"], e.get("value")) for e in self._own_events()
                              if e.get("kind") in METRIC_KINDS and (name is None or e.get("name") == name)])

    def get_details(self) -> dict[str, Any]:
        """The run's details as far as its step knows them (the SDK's keys)."""
        datasets = [item.split(":")[0] for item in
                    os.environ.get(contract.DATASET_INPUTS, "").split(",") if item]
        outputs = [n for n in os.environ.get(contract.DATASET_OUTPUTS, "").split(";") if n]
        return {"runId": self.id, "target": None, "status": self.get_status(),
                "properties": self.get_properties(), "tags": self.get_tags(),
                "inputDatasets": [{"name": n} for n in datasets],
                "outputDatasets": [{"name": n} for n in outputs],
                "runDefinition": {"name": self.name}, "logFiles": {}}

    # ----------------------------------------------------------------- files
    def _artifacts(self) -> dict[str, Path]:
        """The files kept with this run so far, by artifact name."""
        if not self._artifacts_dir or not os.path.isdir(self._artifacts_dir):
            return {}
        root = Path(self._artifacts_dir)
        return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
                if p.is_file() and not p.is_symlink()}

    def get_file_names(self) -> list[str]:
        """Names of the files kept with this run."""
        return sorted(self._artifacts())

    def download_file(self, name: str, output_file_path: str | None = None,
                      _validate_checksum: bool = False) -> None:
        """Copy the kept file `name` to `output_file_path` (default: its base name here)."""
        files = self._artifacts()
        if name not in files:
            raise UserErrorException(f"run {self.id} has no file {name!r}; it has: "
                                     f"{', '.join(sorted(files)) or 'none'}")
        target = Path(output_file_path or Path(name).name)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        self._copy_kept(files[name], target)

    def _copy_kept(self, kept: Path, target: Path) -> None:
        """Copy the kept file `kept` to `target`, never through a link and never from a FIFO."""
        fd = os.open(kept, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as src:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UserErrorException(f"{kept.name} is not a regular file")
            os.set_blocking(fd, True)
            with open(target, "wb") as out:
                shutil.copyfileobj(src, out)

    def download_files(self, prefix: str | None = None, output_directory: str | None = None,
                       output_paths: list[str] | None = None, batch_size: int = 100,
                       append_prefix: bool = True, timeout_seconds: int | None = None) -> list[str]:
        """Copy every kept file whose name starts with `prefix` below `output_directory`.

        As in the SDK, `append_prefix=False` drops the prefix from the local paths, and
        `output_paths` (one per file, in name order) replaces them. Returns the local paths.
        """
        names = [n for n in sorted(self._artifacts()) if not prefix or n.startswith(prefix)]
        if output_paths is not None and len(output_paths) != len(names):
            raise UserErrorException(f"output_paths has {len(output_paths)} entries for "
                                     f"{len(names)} files")
        base = Path(output_directory or os.getcwd())
        written = []
        for i, name in enumerate(names):
            rel = name if append_prefix or not prefix else name[len(prefix):].lstrip("/")
            target = Path(output_paths[i]) if output_paths is not None else base / rel
            self.download_file(name, str(target))
            written.append(str(target))
        return written
