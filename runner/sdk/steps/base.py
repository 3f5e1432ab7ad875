"""`PipelineStep`: ports, arguments and run-after edges shared by every step type.

A step validates its ports and arguments when it is constructed (as the SDK does) and later
compiles itself into a `StepSpec` of the PipelineSpec (`_compile`), where every data object
becomes a port reference and every parameter a parameter reference.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from runner.sdk.data import (DataReference, DatasetConsumptionConfig, OutputDatasetInput,
                             OutputFileDatasetConfig)
from runner.sdk.pipeline_data import InputPortBinding, PipelineData, PipelineParameter, is_datapath_input
from runner.sdk.pipeline_output_dataset import PipelineOutputAbstractDataset
from runner.spec import InputSource, InputSpec, OutputSpec, StepKind, StepSpec, Token
from runner.sdk.steps.step_api import (StepBuildApi, check_arguments, input_port_name,
                                       output_port_name, same_data)

_WORD = re.compile(r"^\w+$")
DATA_TYPES = (PipelineData, InputPortBinding, DataReference, DatasetConsumptionConfig,
              OutputFileDatasetConfig, OutputDatasetInput, PipelineOutputAbstractDataset)


@dataclass
class BuildContext:
    """What a step needs from its Pipeline to compile: ids, defaults and parameters."""

    workspace: Any
    default_datastore: str
    default_source_directory: str
    node_ids: dict[int, str]
    parameters: dict[str, PipelineParameter] = field(default_factory=dict)

    def node_id(self, step: Any) -> str:
        return self.node_ids[id(step)]

    def add_parameter(self, param: PipelineParameter) -> None:
        """Register a parameter; one name with two defaults is the SDK's plain Exception."""
        known = self.parameters.get(param.name)
        if known is not None and known is not param and known.default_value != param.default_value:
            raise Exception(f"Graph already has pipeline parameter with same name {param.name} "
                            f"but different default values {known.default_value}, "
                            f"{param.default_value}")
        self.parameters.setdefault(param.name, param)


class PipelineStep(StepBuildApi):
    """A node of a pipeline graph: inputs, outputs, arguments and run-after predecessors."""

    def __init__(self, name: str, inputs: list | None, outputs: list | None,
                 arguments: list | None = None, fix_port_name_collisions: bool = False,
                 resource_inputs: list | None = None) -> None:
        self.name = name
        self._inputs = list(inputs or [])
        self._outputs = list(outputs or [])
        self._arguments = list(arguments or [])
        self.run_after_steps: list[PipelineStep] = []
        self.step_type = type(self).__name__
        # OutputFileDatasetConfig / DatasetConsumptionConfig in arguments join the ports.
        for arg in self._arguments:
            if isinstance(arg, OutputFileDatasetConfig) and not any(arg is i for i in self._inputs) \
                    and not any(arg is o for o in self._outputs):
                self._outputs.append(arg)
            if isinstance(arg, (DatasetConsumptionConfig, OutputDatasetInput)) and \
                    not any(arg is i for i in self._inputs):
                self._inputs.append(arg)
        self._input_ports = self._check_ports([input_port_name(i) for i in self._inputs], "input")
        self._output_ports = self._check_ports([output_port_name(o) for o in self._outputs], "output")
        collisions = set(self._input_ports) & set(self._output_ports)
        if collisions:
            if not fix_port_name_collisions:
                raise ValueError(f"[{sorted(collisions)[0]}] is repeated: an input and an output "
                                 f"of step [{name}] have the same name")
            self._input_ports = [f"INPUT_{p}" if p in collisions else p for p in self._input_ports]
        for out in self._outputs:
            if isinstance(out, (PipelineData, OutputFileDatasetConfig)):
                out._producer = self
            elif isinstance(out, PipelineOutputAbstractDataset):
                out._set_producer(self)
        self._validate_arguments()

    @staticmethod
    def _check_ports(names: list[str], kind: str) -> list[str]:
        seen: set[str] = set()
        for n in names:
            if not _WORD.match(n or ""):
                raise ValueError(f"[{n}] is not a valid {kind} name: use letters, digits and '_'")
            if n in seen:
                raise ValueError(f"[{n}] is repeated in the {kind}s of the step")
            seen.add(n)
        return names

    def _validate_arguments(self) -> None:
        check_arguments(self._arguments, self._inputs, self._outputs, self.name)

    def run_after(self, step: "PipelineStep") -> None:
        """Run this step only after `step` has finished."""
        self.run_after_steps.append(step)

    # ----------------------------------------------------------------- graph
    def _upstream_steps(self) -> list["PipelineStep"]:
        """Steps this one depends on: producers of its data inputs and run-after steps."""
        ups = []
        for inp in self._inputs:
            producer = _producer_of(inp)
            if producer is not None:
                ups.append(producer)
        return ups + list(self.run_after_steps)

    def _data_inputs_without_producer(self) -> list[str]:
        missing = []
        for inp in self._inputs:
            obj = _produced_object(inp)
            if obj is not None and obj._producer is None:
                missing.append(input_port_name(inp))
        return missing

    # ----------------------------------------------------------------- compile
    def _compile_inputs(self, ctx: BuildContext) -> tuple[InputSpec, ...]:
        return tuple(_input_spec(obj, port, ctx) for obj, port in zip(self._inputs, self._input_ports))

    def _compile_outputs(self, ctx: BuildContext) -> tuple[OutputSpec, ...]:
        specs: list[OutputSpec] = []
        for obj in self._outputs:
            if isinstance(obj, PipelineData):
                if obj._producer is not self:
                    raise ValueError(
                        f"Step output {obj.name} can not be used as an output for step {self.name}, "
                        f"as it is already an output of step {obj._producer.name}.")
                datastore = obj.datastore.name if obj.datastore is not None else ctx.default_datastore
                specs.append(OutputSpec(obj._output_name, obj.name, "pipeline_data", datastore,
                                        obj._output_mode, obj._output_path_on_compute,
                                        pipeline_output_name=obj._pipeline_output_name))
            elif isinstance(obj, PipelineOutputAbstractDataset):
                data = obj._pipeline_data
                if obj._producer is not self:
                    raise ValueError(
                        f"Step output {obj.name} can not be used as an output for step {self.name}, "
                        f"as it is already an output of step {obj._producer.name}.")
                datastore = data.datastore.name if data.datastore is not None else ctx.default_datastore
                specs.append(OutputSpec(data._output_name, data.name, "pipeline_data", datastore,
                                        data._output_mode, data._output_path_on_compute,
                                        pipeline_output_name=data._pipeline_output_name,
                                        register=obj._register_spec()))
            elif isinstance(obj, OutputFileDatasetConfig):
                if obj._producer is not self:
                    raise ValueError(
                        f"Step output {obj.name} can not be used as an output for step {self.name}, "
                        f"as it is already an output of step {obj._producer.name}.")
                if obj.destination is None:
                    datastore, template = ctx.default_datastore, "dataset/{run-id}/{output-name}"
                else:
                    datastore, template = obj.destination[0].name, obj.destination[1]
                specs.append(OutputSpec(obj.name, obj.name, "output_dataset", datastore, obj.mode,
                                        obj.source, destination=template,
                                        register=obj._register_spec()))
            elif isinstance(obj, DataReference):
                specs.append(OutputSpec(obj.data_reference_name, obj.data_reference_name,
                                        "datastore_path", obj.datastore.name, "upload",
                                        obj.path_on_compute, destination=obj.path_on_datastore or ""))
        return tuple(specs)

    def _compile_argument(self, arg: Any, ctx: BuildContext) -> Token:
        """One argument as a token: literal, input port, output port or parameter."""
        if isinstance(arg, PipelineParameter):
            ctx.add_parameter(arg)
            return Token("parameter", arg.name)
        for obj, port in zip(self._outputs, self._output_ports):
            if arg is obj or (isinstance(obj, PipelineOutputAbstractDataset) and same_data(arg, obj)):
                return Token("output", port)
        for obj, port in zip(self._inputs, self._input_ports):
            if same_data(arg, obj):
                return Token("input", port)
        return Token("literal", str(arg))

    def _compile_arguments(self, ctx: BuildContext) -> tuple[Token, ...]:
        return tuple(self._compile_argument(a, ctx) for a in self._arguments)

    def _compile_base(self, ctx: BuildContext, kind: StepKind, **fields: Any) -> StepSpec:
        """The StepSpec of this step: ports, arguments and run-after edges, plus `fields`."""
        values: dict[str, Any] = dict(
            node_id=ctx.node_id(self), name=self.name, type=self.step_type, kind=kind,
            inputs=self._compile_inputs(ctx), outputs=self._compile_outputs(ctx),
            arguments=self._compile_arguments(ctx),
            run_after=tuple(ctx.node_id(s) for s in self.run_after_steps),
            allow_reuse=getattr(self, "_allow_reuse", True))
        values.update(fields)
        return StepSpec(**values)

    def _compile(self, ctx: BuildContext) -> StepSpec:
        """This step as a StepSpec of the PipelineSpec (each step type says how it runs)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be compiled")

    def _validate_at_build(self, ctx: BuildContext) -> None:
        """Checks made when the Pipeline is built (script exists, target known)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _produced_object(inp: Any) -> Any:
    """The step output an input reads (PipelineData, a dataset output, PipelineData promoted
    to a dataset), or None for data no step produces."""
    obj = inp.bind_object if isinstance(inp, InputPortBinding) else inp
    if isinstance(obj, OutputDatasetInput):
        obj = obj.output
    if isinstance(obj, DatasetConsumptionConfig):
        obj = obj.dataset
    if isinstance(obj, (PipelineData, OutputFileDatasetConfig, PipelineOutputAbstractDataset)):
        return obj
    return None


def _producer_of(inp: Any) -> Any:
    obj = _produced_object(inp)
    return obj._producer if obj is not None else None


def _output_view(output: Any, direct: bool) -> dict[str, Any] | None:
    """The dataset view of a step output read as a dataset (None when it is a plain path)."""
    if not direct:
        return None
    return {"definition": output._template(), "direct": True, "asset_id": None}


def _input_spec(obj: Any, port: str, ctx: BuildContext) -> InputSpec:
    """Where an input's data comes from and how the step receives it."""
    if isinstance(obj, PipelineData):
        obj = obj.create_input_binding()
    if isinstance(obj, InputPortBinding):
        data = obj.bind_object
        if isinstance(data, PipelineData):
            source = InputSource("step_output", node=ctx.node_id(data._producer),
                                 output=data._output_name)
            return InputSpec(port, source, obj.bind_mode, obj.path_on_compute)
        from runner.sdk.port_data import PortDataReference
        if isinstance(data, PortDataReference):
            source = InputSource("datastore", datastore=data.datastore_name,
                                 path=data.path_on_datastore)
            return InputSpec(port, source, obj.bind_mode, obj.path_on_compute)
        raise ValueError(f"Unexpected input type: {type(data).__name__}")
    if isinstance(obj, DataReference):
        return InputSpec(port, obj._input_source(), obj.mode, obj.path_on_compute)
    if is_datapath_input(obj):
        parameter, binding = obj
        ctx.add_parameter(parameter)
        return InputSpec(port, InputSource("parameter", parameter=parameter.name), binding.mode,
                         binding.path_on_compute)
    if isinstance(obj, DatasetConsumptionConfig):
        dataset = obj.dataset
        mode = "mount" if obj.mode == "direct" else obj.mode
        if isinstance(dataset, PipelineParameter):  # the run's value replaces the default's view
            ctx.add_parameter(dataset)
            return InputSpec(port, InputSource("parameter", parameter=dataset.name), mode,
                             obj.path_on_compute, obj.name,
                             dataset.default_value._dataset_view(obj.mode == "direct"))
        if isinstance(dataset, OutputFileDatasetConfig):
            source = InputSource("step_output", node=ctx.node_id(dataset._producer),
                                 output=dataset.name)
            return InputSpec(port, source, mode, obj.path_on_compute, obj.name,
                             _output_view(dataset, obj.mode == "direct"))
        return InputSpec(port, dataset._input_source(), mode, obj.path_on_compute, obj.name,
                         dataset._dataset_view(obj.mode == "direct"))
    if isinstance(obj, PipelineOutputAbstractDataset):
        data = obj._pipeline_data
        source = InputSource("step_output", node=ctx.node_id(data._producer),
                             output=data._output_name)
        direct = obj._input_mode == "direct"
        return InputSpec(port, source, "mount" if direct else obj._input_mode,
                         obj._input_path_on_compute, obj.input_name, _output_view(obj, direct))
    if isinstance(obj, OutputDatasetInput):
        source = InputSource("step_output", node=ctx.node_id(obj.output._producer),
                             output=obj.output.name)
        return InputSpec(port, source, obj.mode, None, obj.name)
    if isinstance(obj, OutputFileDatasetConfig):  # in inputs: as `as_input()` does
        source = InputSource("step_output", node=ctx.node_id(obj._producer), output=obj.name)
        direct = getattr(obj, "_KIND", None) == "tabular"
        return InputSpec(port, source, "mount", None, obj.name, _output_view(obj, direct))
    raise ValueError(f"Unexpected input type: {type(obj).__name__}")
