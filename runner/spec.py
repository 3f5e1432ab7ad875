"""The PipelineSpec: what a submitted pipeline is, once its Python objects are gone.

Steps compile to it when a `Pipeline` is built; it is stored with every run (as JSON) and
everything after submit works from it: the runner, reruns, watch mode and published
pipelines. Its types are frozen dataclasses, read by attribute. `to_json`/`from_json` are its
one load/dump pair; `DependencyGraph` (on stdlib `graphlib`) is its one topological order,
descendants and cycle detection. Standard library only.
"""
from __future__ import annotations

import graphlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

SPEC_FORMAT = 1  # the JSON shape below; a newer one is refused by `from_json`
SDK_DEFAULT_PYTHON_VERSION = "3.10.18"  # what CondaDependencies records when none is asked for

TokenKind = Literal["literal", "input", "output", "parameter"]
TOKEN_KINDS: tuple[TokenKind, ...] = ("literal", "input", "output", "parameter")


class SpecError(ValueError):
    """A stored spec that this amlocal cannot read (a newer format, or damaged)."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text (and hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def content_hash(value: Any) -> str:
    """sha256 of the canonical JSON of `value`."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Token:
    """One argument or param value: a literal string, an input or output port, or a parameter."""

    kind: TokenKind
    value: str

    def to_json(self) -> dict[str, str]:
        return {self.kind: self.value}

    @staticmethod
    def from_json(data: Mapping[str, str]) -> "Token":
        (kind, value), = data.items()
        if kind not in TOKEN_KINDS:
            raise SpecError(f"unknown argument token {kind!r}")
        return Token(kind, str(value))  # type: ignore[arg-type]


@dataclass(frozen=True)
class InputSource:
    """Where an input's data comes from: a datastore path, a step's output, or a DataPath
    pipeline parameter."""

    type: Literal["datastore", "step_output", "parameter"]
    datastore: str | None = None
    path: str | None = None
    node: str | None = None
    output: str | None = None
    parameter: str | None = None
    # A filtered FileDataset: the step gets only the files the filter selects on the
    # dataset's `partition_format` columns (see runner.engine.dataset_selection).
    partition_format: str | None = None
    filter: Any = None

    def to_json(self) -> dict[str, Any]:
        if self.type == "datastore":
            data = {"type": self.type, "datastore": self.datastore, "path": self.path}
            if self.filter is not None:
                data.update(partition_format=self.partition_format, filter=self.filter)
            return data
        if self.type == "step_output":
            return {"type": self.type, "node": self.node, "output": self.output}
        return {"type": self.type, "parameter": self.parameter}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "InputSource":
        return InputSource(data["type"], data.get("datastore"), data.get("path"), data.get("node"),
                           data.get("output"), data.get("parameter"), data.get("partition_format"),
                           data.get("filter"))

    @property
    def where(self) -> str:
        """`datastore:path` of a datastore source, for reasons and messages."""
        return f"{self.datastore or 'datapath'}:{self.path or ''}"


@dataclass(frozen=True)
class InputSpec:
    """A step input: its port name, its source, and how the step receives it."""

    port: str
    source: InputSource
    mode: str | None = "mount"
    path_on_compute: str | None = None
    dataset: str | None = None  # the name of `as_named_input(name)`, if it is a dataset
    # A dataset input: {"definition": its JSON definition, "direct": consumed as an object
    # (not a mount or download), "asset_id": the registered version or None}. For a step
    # output read as a dataset the definition is a template (its one source has only a
    # `path` below the producer's folder); for a dataset parameter it is the default's, and
    # the run's value replaces it (`RunContext.resolved_input`).
    dataset_view: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"port": self.port, "source": self.source.to_json(), "mode": self.mode,
                "path_on_compute": self.path_on_compute}
        if self.dataset is not None:
            data["dataset"] = self.dataset
        if self.dataset_view is not None:
            data["dataset_view"] = dict(self.dataset_view)
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "InputSpec":
        return InputSpec(data["port"], InputSource.from_json(data["source"]), data.get("mode"),
                         data.get("path_on_compute"), data.get("dataset"),
                         data.get("dataset_view"))


OutputKind = Literal["pipeline_data", "output_dataset", "datastore_path"]


@dataclass(frozen=True)
class OutputSpec:
    """A step output: PipelineData, an OutputFileDatasetConfig, or a DataReference uploaded to."""

    port: str
    name: str
    kind: OutputKind
    datastore: str
    mode: str | None = "mount"
    path_on_compute: str | None = None
    destination: str | None = None  # a path (template) on the datastore; PipelineData has none
    pipeline_output_name: str | None = None
    # Registered as a dataset when the step succeeds (`register_on_complete`, PipelineData
    # `.as_dataset().register`): {"name", "description", "tags", "create_new_version"
    # (absent: True), "dataset": a definition template whose one source has only a `path`
    # below the output's folder}.
    register: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"port": self.port, "name": self.name, "kind": self.kind,
                                "datastore": self.datastore, "mode": self.mode,
                                "path_on_compute": self.path_on_compute}
        if self.kind == "pipeline_data":
            data["pipeline_output_name"] = self.pipeline_output_name
        else:
            data["destination"] = self.destination
        if self.register is not None:
            data["register"] = dict(self.register)
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "OutputSpec":
        return OutputSpec(data["port"], data["name"], data["kind"], data["datastore"],
                          data.get("mode"), data.get("path_on_compute"), data.get("destination"),
                          data.get("pipeline_output_name"), data.get("register"))


@dataclass(frozen=True)
class EnvironmentSpec:
    """The software a step runs with, as its `Environment` described it."""

    name: str = "default-environment"
    base_image: str | None = None  # None: the configured base image (Azure's default image)
    base_dockerfile: str | None = None
    docker_arguments: tuple[str, ...] = ()
    shm_size: str | None = None
    python_version: str | None = None
    pip_packages: tuple[str, ...] = ()
    conda_packages: tuple[str, ...] = ()
    pip_options: tuple[str, ...] = ()
    user_managed: bool = False
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    framework: Mapping[str, Any] | None = None  # a framework estimator's packages and pins

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "base_image": self.base_image,
                "base_dockerfile": self.base_dockerfile,
                "docker_arguments": list(self.docker_arguments), "shm_size": self.shm_size,
                "python_version": self.python_version, "pip_packages": list(self.pip_packages),
                "conda_packages": list(self.conda_packages), "pip_options": list(self.pip_options),
                "user_managed": self.user_managed,
                "environment_variables": dict(self.environment_variables)}
        if self.framework:
            data["framework"] = dict(self.framework)
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any] | None) -> "EnvironmentSpec":
        data = data or {}
        return EnvironmentSpec(
            name=data.get("name") or "default-environment", base_image=data.get("base_image"),
            base_dockerfile=data.get("base_dockerfile"),
            docker_arguments=tuple(str(a) for a in data.get("docker_arguments") or ()),
            shm_size=data.get("shm_size"), python_version=data.get("python_version"),
            pip_packages=tuple(data.get("pip_packages") or ()),
            conda_packages=tuple(data.get("conda_packages") or ()),
            pip_options=tuple(data.get("pip_options") or ()),
            user_managed=bool(data.get("user_managed")),
            environment_variables={str(k): str(v) for k, v in
                                   (data.get("environment_variables") or {}).items()},
            framework=data.get("framework"))

    @property
    def asked_python(self) -> str | None:
        """The Python (major.minor) the environment asks for, None when it kept the SDK's
        default (which every environment records)."""
        version = (self.python_version or "").strip()
        if not version or version == SDK_DEFAULT_PYTHON_VERSION:
            return None
        return ".".join(version.split(".")[:2])

    @property
    def packages(self) -> tuple[str, ...]:
        """Every package it asks for, conda's first."""
        return (*self.conda_packages, *self.pip_packages)

    def identity(self) -> str:
        """The environment as Azure identifies it: its definition, not the image it builds."""
        return "spec:" + content_hash(self.to_json())


@dataclass(frozen=True)
class RunConfigSpec:
    """How a step runs: its target, node count, time limit and environment."""

    target: str = "local"
    node_count: int = 1
    max_run_duration_seconds: float | None = None
    environment: EnvironmentSpec = field(default_factory=EnvironmentSpec)
    use_docker: bool | None = None
    framework: str | None = None     # Python, PySpark, … (the SDK's RunConfiguration.framework)
    communicator: str | None = None  # None, Mpi, ParameterServer, Gloo, Nccl, …
    distributed: Mapping[str, Any] | None = None  # the MPI/PyTorch/TensorFlow shape asked for

    def to_json(self) -> dict[str, Any]:
        data = {"target": self.target, "node_count": self.node_count,
                "max_run_duration_seconds": self.max_run_duration_seconds,
                "environment": self.environment.to_json()}
        data.update(_without_none({"use_docker": self.use_docker, "framework": self.framework,
                                   "communicator": self.communicator,
                                   "distributed": dict(self.distributed) if self.distributed else None}))
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any] | None) -> "RunConfigSpec | None":
        if data is None:
            return None
        return RunConfigSpec(data.get("target") or "local", data.get("node_count") or 1,
                             data.get("max_run_duration_seconds"),
                             EnvironmentSpec.from_json(data.get("environment")),
                             data.get("use_docker"), data.get("framework"),
                             data.get("communicator"), data.get("distributed"))


StepKind = Literal["python", "data_transfer", "databricks", "parallel"]
SCRIPT_KINDS: tuple[StepKind, ...] = ("python", "parallel")  # kinds that run user code
ParallelInputType = Literal["file", "tabular"]


def _token_or_none(data: Mapping[str, str] | None) -> Token | None:
    return Token.from_json(data) if data else None


@dataclass(frozen=True)
class ParallelSpec:
    """What a ParallelRunStep's driver needs: its ParallelRunConfig and which ports it reads.

    Values a PipelineParameter may set are Tokens (resolved when the step starts); the rest
    are checked values. `inputs` are the input ports split into mini-batches (side inputs are
    plain inputs of the step); `output` is the output port `append_row` writes into.
    """

    entry_script: str
    input_type: ParallelInputType
    inputs: tuple[str, ...]
    mini_batch_size: Token
    error_threshold: int
    output_action: str
    node_count: Token
    process_count_per_node: Token | None = None
    logging_level: Token = Token("literal", "INFO")
    run_invocation_timeout: Token = Token("literal", "60")
    run_max_try: Token = Token("literal", "3")
    output: str | None = None
    append_row_file_name: str | None = None
    allowed_failed_count: int | None = None
    allowed_failed_percent: float | None = None
    partition_keys: Token | None = None
    max_nodes: int | None = None  # the compute target's, when it has one

    def tokens(self) -> tuple[Token, ...]:
        """Every value that may be a parameter."""
        return tuple(t for t in (self.mini_batch_size, self.node_count,
                                 self.process_count_per_node, self.logging_level,
                                 self.run_invocation_timeout, self.run_max_try,
                                 self.partition_keys) if t is not None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "entry_script": self.entry_script, "input_type": self.input_type,
            "inputs": list(self.inputs), "mini_batch_size": self.mini_batch_size.to_json(),
            "error_threshold": self.error_threshold, "output_action": self.output_action,
            "node_count": self.node_count.to_json(), "logging_level": self.logging_level.to_json(),
            "run_invocation_timeout": self.run_invocation_timeout.to_json(),
            "run_max_try": self.run_max_try.to_json()}
        data.update(_without_none({
            "process_count_per_node": self.process_count_per_node.to_json()
            if self.process_count_per_node else None,
            "output": self.output, "append_row_file_name": self.append_row_file_name,
            "allowed_failed_count": self.allowed_failed_count,
            "allowed_failed_percent": self.allowed_failed_percent,
            "partition_keys": self.partition_keys.to_json() if self.partition_keys else None,
            "max_nodes": self.max_nodes}))
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any] | None) -> "ParallelSpec | None":
        if not data:
            return None
        return ParallelSpec(
            entry_script=data["entry_script"], input_type=data.get("input_type") or "file",
            inputs=tuple(data.get("inputs") or ()),
            mini_batch_size=Token.from_json(data["mini_batch_size"]),
            error_threshold=int(data["error_threshold"]), output_action=data["output_action"],
            node_count=Token.from_json(data["node_count"]),
            process_count_per_node=_token_or_none(data.get("process_count_per_node")),
            logging_level=Token.from_json(data.get("logging_level") or {"literal": "INFO"}),
            run_invocation_timeout=Token.from_json(data.get("run_invocation_timeout")
                                                   or {"literal": "60"}),
            run_max_try=Token.from_json(data.get("run_max_try") or {"literal": "3"}),
            output=data.get("output"), append_row_file_name=data.get("append_row_file_name"),
            allowed_failed_count=data.get("allowed_failed_count"),
            allowed_failed_percent=data.get("allowed_failed_percent"),
            partition_keys=_token_or_none(data.get("partition_keys")),
            max_nodes=data.get("max_nodes"))


@dataclass(frozen=True)
class StepSpec:
    """One step of a pipeline, everything the runner needs to run (or reuse) it.

    `kind` says how it runs: a Python script (`python`), a copy made by the runner
    (`data_transfer`), an entry script driven over mini-batches (`parallel`, see
    `ParallelSpec`), or a Databricks job amlocal cannot run (`databricks`). `type` is the
    SDK class the user wrote (PythonScriptStep, EstimatorStep, …).
    """

    node_id: str
    name: str
    type: str
    kind: StepKind
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    arguments: tuple[Token, ...] = ()
    run_after: tuple[str, ...] = ()
    allow_reuse: bool = True
    script_name: str | None = None
    command: str | None = None  # a CommandStep's program (its arguments are `arguments`)
    source_directory: str | None = None
    snapshot_id: str | None = None  # a module version's snapshot, taken when it was published
    params: Mapping[str, Token] = field(default_factory=dict)
    compute_target: str | None = None
    runconfig: RunConfigSpec | None = None
    version: str | None = None
    mpi: Mapping[str, Any] | None = None
    databricks: Mapping[str, Any] | None = None
    module: Mapping[str, Any] | None = None
    source_reference_type: str | None = None
    destination_reference_type: str | None = None
    parallel: ParallelSpec | None = None

    @property
    def runs_script(self) -> bool:
        """Whether the step runs user code in its environment (a Python or parallel step)."""
        return self.kind in SCRIPT_KINDS

    @property
    def environment(self) -> EnvironmentSpec:
        """The step's environment (the default one when its run config names none)."""
        return self.runconfig.environment if self.runconfig else EnvironmentSpec()

    @property
    def target(self) -> str:
        """The compute target the step runs on ("local" when none)."""
        return self.compute_target or "local"

    def upstream_nodes(self) -> frozenset[str]:
        """The node ids this step waits for: producers of its inputs, and run_after steps."""
        producers = {i.source.node for i in self.inputs if i.source.type == "step_output"}
        return frozenset(n for n in producers | set(self.run_after) if n)

    def used_parameters(self) -> list[str]:
        """Names of the pipeline parameters the step reads (arguments, params, DataPath inputs)."""
        tokens = (*self.arguments, *self.params.values(),
                  *(self.parallel.tokens() if self.parallel else ()))
        names = {t.value for t in tokens if t.kind == "parameter"}
        names |= {i.source.parameter for i in self.inputs
                  if i.source.type == "parameter" and i.source.parameter}
        return sorted(names)

    def definition(self) -> dict[str, Any]:
        """What the step runs, for its fingerprint: kind, type, script, Databricks job, module."""
        return _without_none({"kind": self.kind, "type": self.type, "script_name": self.script_name,
                              "command": self.command,
                              "databricks": dict(self.databricks) if self.databricks else None,
                              "module": dict(self.module) if self.module else None,
                              "parallel": self.parallel.to_json() if self.parallel else None,
                              "source_reference_type": self.source_reference_type,
                              "destination_reference_type": self.destination_reference_type})

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "node_id": self.node_id, "name": self.name, "type": self.type, "kind": self.kind,
            "inputs": [i.to_json() for i in self.inputs],
            "outputs": [o.to_json() for o in self.outputs],
            "arguments": [t.to_json() for t in self.arguments],
            "run_after": list(self.run_after), "allow_reuse": self.allow_reuse,
            "params": {k: t.to_json() for k, t in self.params.items()},
            "compute_target": self.compute_target,
            "runconfig": self.runconfig.to_json() if self.runconfig else None}
        optional = {"script_name": self.script_name, "command": self.command,
                    "source_directory": self.source_directory,
                    "snapshot_id": self.snapshot_id, "version": self.version,
                    "mpi": dict(self.mpi) if self.mpi else None,
                    "databricks": dict(self.databricks) if self.databricks else None,
                    "module": dict(self.module) if self.module else None,
                    "parallel": self.parallel.to_json() if self.parallel else None,
                    "source_reference_type": self.source_reference_type,
                    "destination_reference_type": self.destination_reference_type}
        data.update(_without_none(optional))
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "StepSpec":
        return StepSpec(
            node_id=data["node_id"], name=data["name"], type=data.get("type") or "PipelineStep",
            kind=data.get("kind") or "python",
            inputs=tuple(InputSpec.from_json(i) for i in data.get("inputs") or ()),
            outputs=tuple(OutputSpec.from_json(o) for o in data.get("outputs") or ()),
            arguments=tuple(Token.from_json(t) for t in data.get("arguments") or ()),
            run_after=tuple(data.get("run_after") or ()),
            allow_reuse=bool(data.get("allow_reuse", True)),
            script_name=data.get("script_name"), command=data.get("command"),
            source_directory=data.get("source_directory"),
            snapshot_id=data.get("snapshot_id"),
            params={k: Token.from_json(t) for k, t in (data.get("params") or {}).items()},
            compute_target=data.get("compute_target"),
            runconfig=RunConfigSpec.from_json(data.get("runconfig")),
            version=data.get("version"), mpi=data.get("mpi"), databricks=data.get("databricks"),
            module=data.get("module"), source_reference_type=data.get("source_reference_type"),
            destination_reference_type=data.get("destination_reference_type"),
            parallel=ParallelSpec.from_json(data.get("parallel")))


@dataclass(frozen=True)
class ParameterSpec:
    """A pipeline parameter: its type (int, float, str, bool, datapath, dataset) and default."""

    type: str
    default: Any

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "default": self.default}


class DependencyGraph:
    """Nodes and the nodes each waits for: one topological order, descendants and cycles.

    Built on `graphlib.TopologicalSorter`; among nodes ready at the same time the order is the
    order the nodes were given in.
    """

    def __init__(self, dependencies: Mapping[str, Iterable[str]]) -> None:
        self.dependencies: dict[str, frozenset[str]] = {
            node: frozenset(ups) for node, ups in dependencies.items()}
        self._position = {node: i for i, node in enumerate(self.dependencies)}
        self._downstream: dict[str, set[str]] = {node: set() for node in self.dependencies}
        for node, ups in self.dependencies.items():
            for up in ups:
                self._downstream.setdefault(up, set()).add(node)

    def topological_order(self) -> list[str]:
        """Every node after the nodes it waits for; raises `graphlib.CycleError` on a cycle."""
        sorter = graphlib.TopologicalSorter(self.dependencies)
        sorter.prepare()
        order: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=lambda n: self._position.get(n, len(order)))
            order += ready
            sorter.done(*ready)
        return [n for n in order if n in self._position]

    def descendants(self, node: str) -> set[str]:
        """Every node that waits, directly or not, for `node`."""
        found: set[str] = set()
        frontier = [node]
        while frontier:
            for other in self._downstream.get(frontier.pop(), ()):
                if other not in found:
                    found.add(other)
                    frontier.append(other)
        return found

    def closure(self, nodes: Iterable[str]) -> set[str]:
        """`nodes` and everything downstream of them."""
        found = set(nodes)
        for node in list(found):
            found |= self.descendants(node)
        return found

    def cycle_nodes(self) -> list[str]:
        """The nodes that lie on a cycle (each waits, in the end, for itself), in given order."""
        return [node for node in self.dependencies if node in self.descendants(node)]


@dataclass(frozen=True)
class PipelineSpec:
    """A whole pipeline: its parameters, its default datastore and its steps."""

    steps: tuple[StepSpec, ...]
    parameters: Mapping[str, ParameterSpec] = field(default_factory=dict)
    description: str | None = None
    default_datastore: str = "workspaceblobstore"
    format: int = SPEC_FORMAT

    def step(self, node_id: str) -> StepSpec:
        """The step with node id `node_id`."""
        for step in self.steps:
            if step.node_id == node_id:
                return step
        raise KeyError(node_id)

    def graph(self) -> DependencyGraph:
        """The steps' dependencies (data producers and run_after), in spec order."""
        return DependencyGraph({s.node_id: s.upstream_nodes() for s in self.steps})

    def ordered_steps(self) -> list[StepSpec]:
        """The steps, each after every step it waits for."""
        by_node = {s.node_id: s for s in self.steps}
        return [by_node[n] for n in self.graph().topological_order()]

    def names(self, nodes: Iterable[str]) -> list[str]:
        """Step names of `nodes`, in spec order."""
        wanted = set(nodes)
        return [s.name for s in self.steps if s.node_id in wanted]

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "description": self.description,
                "default_datastore": self.default_datastore,
                "parameters": {k: p.to_json() for k, p in self.parameters.items()},
                "steps": [s.to_json() for s in self.steps]}

    def dumps(self) -> str:
        """The canonical JSON text of this spec (what is stored, and hashed for its id)."""
        return canonical_json(self.to_json())

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "PipelineSpec":
        version = data.get("format", SPEC_FORMAT)
        if not isinstance(version, int) or version > SPEC_FORMAT:
            raise SpecError(f"this pipeline spec has format {version!r}; this amlocal reads "
                            f"format {SPEC_FORMAT} (upgrade amlocal to read it)")
        try:
            return PipelineSpec(
                steps=tuple(StepSpec.from_json(s) for s in data["steps"]),
                parameters={k: ParameterSpec(p["type"], p.get("default"))
                            for k, p in (data.get("parameters") or {}).items()},
                description=data.get("description"),
                default_datastore=data.get("default_datastore") or "workspaceblobstore",
                format=version)
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError(f"the stored pipeline spec is damaged ({type(exc).__name__}: {exc})") from exc

    @staticmethod
    def loads(text: str) -> "PipelineSpec":
        return PipelineSpec.from_json(json.loads(text))
