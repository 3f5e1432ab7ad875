"""What every step of one pipeline run shares: the run's record, its spec, and the outputs of
the steps that finished so far."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from runner.spec import InputSource, InputSpec, OutputSpec, PipelineSpec, StepSpec
from runner.errors import RunnerError
from runner.engine.dataset_selection import (definition_selection_folder, needs_selection,
                                        selection_folder)
from store.datastore_paths import check_name, normalize_datastore_path, resolve_in_datastore
from store.layout import StepRunFiles, WorkspaceLayout
from store.records import PipelineRunRecord, StoredOutput
from store.settings import setting_values

CONTENT_MODE, AZURE_MODE = "content", "azure"
GLOB_CHARS = frozenset("*?[")


class StepSetupError(RunnerError):
    """A step could not be prepared (missing input data, unsupported input kind, …)."""


def dataset_source(definition: Mapping[str, Any], what: str) -> InputSource:
    """Where a step reads the dataset `definition` from (its one datastore path, with its
    filter), as a dataset step input records it."""
    sources = definition.get("sources") or []
    if len(sources) != 1 or not sources[0].get("datastore"):
        raise StepSetupError(f"{what}: a dataset a step reads must be on one datastore path")
    source = sources[0]
    path = normalize_datastore_path(source.get("path"), what=what)
    if definition.get("filter") is not None:
        return InputSource("datastore", datastore=source["datastore"], path=path,
                           partition_format=definition.get("partition_format"),
                           filter=definition["filter"])
    return InputSource("datastore", datastore=source["datastore"], path=path)


@dataclass
class RunContext:
    """One pipeline run as its steps see it; `producer_outputs` grows as steps finish."""

    layout: WorkspaceLayout
    run: PipelineRunRecord
    spec: PipelineSpec
    reuse_mode: str = CONTENT_MODE  # or "azure": datastore inputs by path, as the service does
    producer_outputs: dict[str, Mapping[str, StoredOutput]] = field(default_factory=dict)
    run_number: int | None = None  # the run's number in its experiment (`run.parent.number`)

    @staticmethod
    def of(layout: WorkspaceLayout, run: PipelineRunRecord, spec: PipelineSpec) -> "RunContext":
        """The context of `run`, with the workspace's reuse mode."""
        return RunContext(layout, run, spec, setting_values(layout).get("reuse", CONTENT_MODE))

    @property
    def run_id(self) -> str:
        return self.run.id

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self.run.parameters

    def forced_reason(self, node_id: str) -> str | None:
        """Why a rerun forces step `node_id` to run, or None."""
        forced = self.run.forced or {}
        if node_id not in forced.get("nodes", ()):
            return None
        return forced.get("reason") or "asked for"

    def step_files(self, step_run_id: str) -> StepRunFiles:
        """The folder of one of this run's step runs."""
        return StepRunFiles(self.layout.step_run_dir(self.run.id, step_run_id))

    def resolved_input(self, inp: InputSpec) -> InputSpec:
        """`inp` with a dataset parameter replaced by the dataset this run gives it (as if
        the step read that dataset directly); any other input as it is."""
        if inp.source.type != "parameter" or inp.dataset_view is None:
            return inp
        value = self.parameters.get(inp.source.parameter or "")
        if not (isinstance(value, dict) and isinstance(value.get("dataset"), dict)):
            raise StepSetupError(f"input {inp.port}: parameter {inp.source.parameter} is not a "
                                 "dataset (a FileDataset or TabularDataset)")
        definition = dict(value["dataset"])
        view = {"definition": definition, "direct": bool(inp.dataset_view.get("direct")),
                "asset_id": value.get("asset_id")}
        return replace(inp, source=dataset_source(definition, f"input {inp.port}"),
                       dataset_view=view)

    def input_path(self, inp: InputSpec) -> Path:
        """Where input `inp`'s data is on this machine (it must exist)."""
        inp = self.resolved_input(inp)
        source = inp.source
        if source.type == "datastore":
            root = self.layout.datastore_dir(source.datastore or "")
            if not root.is_dir():
                raise StepSetupError(f"input {inp.port}: datastore {source.datastore} does not exist")
            view = inp.dataset_view
            if view is not None and needs_selection(view["definition"]):
                return definition_selection_folder(self.layout, dict(view["definition"]))
            if source.filter is not None or GLOB_CHARS & set(source.path or ""):
                # a filtered FileDataset or a glob: only the files it selects, as one folder
                return selection_folder(self.layout, source.to_json())
            path = resolve_in_datastore(root, source.path, what=f"input {inp.port}")
            if not path.exists():
                raise StepSetupError(f"input {inp.port}: {source.datastore}:{source.path} "
                                     f"does not exist (looked in {path})")
            return path
        if source.type == "step_output":
            produced = self.producer_outputs.get(source.node or "", {}).get(source.output or "")
            if produced is None:
                raise StepSetupError(f"input {inp.port}: the producing step has no output "
                                     f"{source.output}")
            return produced.local_path
        value = self.parameters.get(source.parameter or "")
        if isinstance(value, dict) and "datastore" in value:
            return resolve_in_datastore(self.layout.datastore_dir(value["datastore"]),
                                        value.get("path"), what=f"input {inp.port}")
        raise StepSetupError(f"input {inp.port}: parameter {source.parameter} is not a DataPath")

    def datastore_location(self, inp: InputSpec) -> tuple[str, str] | None:
        """(datastore, path on it) that input `inp` reads: a datastore input's, or the DataPath
        a datapath parameter input has in this run; None for other inputs."""
        inp = self.resolved_input(inp)
        source = inp.source
        if source.type == "datastore":
            return source.datastore or "", source.path or ""
        value = self.parameters.get(source.parameter or "") if source.type == "parameter" else None
        if isinstance(value, dict) and value.get("datastore"):
            return value["datastore"], normalize_datastore_path(value.get("path"), what=f"input {inp.port}")
        return None

    def produced(self, inp: InputSpec) -> StoredOutput | None:
        """The finished output a step-output input reads (None for other inputs, or not yet)."""
        if inp.source.type != "step_output":
            return None
        return self.producer_outputs.get(inp.source.node or "", {}).get(inp.source.output or "")

    def output_location(self, step_run_id: str, out: OutputSpec) -> tuple[str, str]:
        """(datastore, path on datastore) where output `out` of step run `step_run_id` lives."""
        check_name(out.port, what="output name")
        if out.kind == "pipeline_data":
            return out.datastore, f"azureml/{step_run_id}/{out.port}"
        destination = out.destination or ""
        if out.kind == "output_dataset":
            destination = destination.replace("{run-id}", step_run_id).replace("{output-name}", out.port)
        return out.datastore, normalize_datastore_path(destination, what=f"output {out.port}")

    def output(self, step_run_id: str, out: OutputSpec) -> StoredOutput:
        """Output `out` of step run `step_run_id`: its datastore path and folder on this machine."""
        datastore, path = self.output_location(step_run_id, out)
        local = resolve_in_datastore(self.layout.datastore_dir(datastore), path,
                                     what=f"output {out.port}")
        return StoredOutput(out.port, datastore, path, local)

    def upstream_finished(self, step: StepSpec) -> bool:
        """Whether every step `step` reads from has its outputs known."""
        return all(n in self.producer_outputs for n in step.upstream_nodes())
