"""The SDK's public step-building methods (`PipelineStep.create_node`, `validate_arguments`, …).

The SDK's pipeline builder calls these on every step, and custom steps override them. In
amlocal they are the named entry points of what a step does when a Pipeline is built: check
that data in `arguments` is among the step's inputs and outputs, annotate the arguments as
`input:<port>` / `output:<port>` / `parameter:<name>`, bind inputs and outputs to ports, find
the source directory, and compile the step into its node of the PipelineSpec.
"""
from __future__ import annotations

import os
from typing import Any

from runner.sdk.data import (DataReference, DatasetConsumptionConfig, FileDataset, OutputDatasetInput,
                             OutputFileDatasetConfig)
from runner.sdk.pipeline_data import InputPortBinding, PipelineData, PipelineParameter, is_datapath_input
from runner.sdk.pipeline_output_dataset import PipelineOutputAbstractDataset


def same_data(argument: Any, port_object: Any) -> bool:
    """Whether `argument` stands for the input/output object `port_object`."""
    if argument is port_object:
        return True
    if isinstance(port_object, PipelineOutputAbstractDataset):  # copies share the PipelineData
        data = argument._pipeline_data if isinstance(argument, PipelineOutputAbstractDataset) \
            else argument
        return data is port_object._pipeline_data
    if is_datapath_input(port_object):
        return is_datapath_input(argument) and argument == port_object
    if isinstance(port_object, InputPortBinding) and argument is port_object.bind_object:
        return True
    return isinstance(port_object, OutputDatasetInput) and argument is port_object.output


def input_port_name(obj: Any) -> str:
    """The port name under which a step sees an input object."""
    if isinstance(obj, PipelineData):
        return obj.name
    if isinstance(obj, InputPortBinding):
        return obj.name
    if isinstance(obj, DataReference):
        return obj.data_reference_name
    if isinstance(obj, (DatasetConsumptionConfig, OutputDatasetInput)):
        return obj.name
    if isinstance(obj, OutputFileDatasetConfig):
        return obj.name
    if isinstance(obj, PipelineOutputAbstractDataset):
        return obj.input_name
    if is_datapath_input(obj):
        return obj[0].name
    if isinstance(obj, FileDataset):
        raise ValueError("A Dataset cannot be used as a step input directly: use "
                         "dataset.as_named_input('name') (and .as_mount()/.as_download())")
    raise ValueError(f"Unexpected input type: {type(obj).__name__}")


def output_port_name(obj: Any) -> str:
    """The port name under which a step writes an output object."""
    if isinstance(obj, PipelineData):
        return obj._output_name
    if isinstance(obj, (OutputFileDatasetConfig, PipelineOutputAbstractDataset)):
        return obj.name
    if isinstance(obj, DataReference):
        return obj.data_reference_name
    raise ValueError(f"Unexpected output type: {type(obj).__name__}")


def check_arguments(arguments: list, inputs: list, outputs: list, step_name: str | None = None) -> None:
    """Raise ValueError for data in `arguments` that is not among `inputs` / `outputs`."""
    where = f" (step [{step_name}]; add it to inputs= or outputs=)" if step_name else ""
    for argument in arguments or []:
        if isinstance(argument, FileDataset):
            raise ValueError("A Dataset cannot be used in arguments directly: use "
                             "dataset.as_named_input('name')")
        if isinstance(argument, InputPortBinding):
            if not any(same_data(argument, i) for i in inputs):
                raise ValueError(f"Input {argument.name} appears in arguments list but is not in "
                                 f"the input list{where}")
        elif isinstance(argument, (PipelineData, DataReference)):
            if not any(argument is o for o in outputs) and not any(same_data(argument, i) for i in inputs):
                name = argument.name if isinstance(argument, PipelineData) else argument.data_reference_name
                raise ValueError(f"Input/Output {name} appears in arguments list but is not in the "
                                 f"input/output lists{where}")


class StepBuildApi:
    """Mixin of `PipelineStep`: the SDK's build-time methods, on amlocal's compile."""

    name: str
    _inputs: list
    _outputs: list
    _arguments: list

    @staticmethod
    def validate_arguments(arguments: list, inputs: list, outputs: list) -> None:
        """Check that every data object in `arguments` is in `inputs` or `outputs`."""
        check_arguments(arguments, inputs, outputs)

    @staticmethod
    def resolve_input_arguments(arguments: list, inputs: list, outputs: list,
                                params: dict | None) -> tuple[list, list[str]]:
        """(the arguments with data replaced by the step's port objects, the annotated
        arguments: `input:<port>`, `output:<port>`, `parameter:<name>` or the literal text)."""
        resolved: list[Any] = []
        annotated: list[str] = []
        for argument in arguments or []:
            if isinstance(argument, PipelineParameter):
                resolved.append(argument)
                annotated.append(f"parameter:{argument.name}")
                continue
            output = next((o for o in outputs if argument is o), None)
            if output is not None:
                resolved.append(output)
                annotated.append(f"output:{output_port_name(output)}")
                continue
            found = next((i for i in inputs if same_data(argument, i)), None)
            if found is not None:
                resolved.append(found)
                annotated.append(f"input:{input_port_name(found)}")
                continue
            resolved.append(argument)
            annotated.append(str(argument))
        return resolved, annotated

    def create_input_output_bindings(self, inputs: list, outputs: list, default_datastore: Any,
                                     resource_inputs: list | None = None) -> tuple[list, list]:
        """The step's inputs as InputPortBindings and outputs as OutputPortBindings, each with
        the port name, mode and datastore (`default_datastore` where the output names none)."""
        from runner.sdk.port_bindings import OutputPortBinding
        input_bindings = []
        for obj in [*inputs, *(resource_inputs or [])]:
            if isinstance(obj, InputPortBinding):
                input_bindings.append(obj)
            elif isinstance(obj, PipelineData):
                input_bindings.append(obj.create_input_binding())
            elif isinstance(obj, DataReference):
                input_bindings.append(InputPortBinding(obj.data_reference_name, obj, obj.mode,
                                                       obj.path_on_compute, obj.overwrite))
            else:
                mode = getattr(obj, "mode", "mount")
                input_bindings.append(InputPortBinding(input_port_name(obj), obj,
                                                       "mount" if mode == "direct" else mode,
                                                       getattr(obj, "path_on_compute", None)))
        output_bindings = []
        for obj in outputs:
            if isinstance(obj, OutputPortBinding):
                output_bindings.append(obj)
            elif isinstance(obj, PipelineData):
                output_bindings.append(OutputPortBinding(
                    obj.name, obj.datastore or default_datastore, obj._output_name, obj._output_mode,
                    obj._output_path_on_compute, obj._is_directory, obj._output_overwrite,
                    obj.data_type, obj._pipeline_output_name))
            elif isinstance(obj, OutputFileDatasetConfig):
                datastore = obj.destination[0] if obj.destination else default_datastore
                output_bindings.append(OutputPortBinding(obj.name, datastore, bind_mode=obj.mode,
                                                         path_on_compute=obj.source,
                                                         dataset_output=obj))
            elif isinstance(obj, DataReference):
                output_bindings.append(OutputPortBinding(obj.data_reference_name, obj.datastore,
                                                         bind_mode="upload",
                                                         path_on_compute=obj.path_on_compute))
        return input_bindings, output_bindings

    def get_source_directory(self, context: Any, source_directory: str | None,
                             script_name: str | None) -> tuple[str, list]:
        """(the absolute source directory — the Pipeline's default when None —, hash paths).

        Raises the SDK's ValueError when `script_name` is not in it; hash paths are always
        empty, as the SDK hashes the whole directory.
        """
        folder = os.path.abspath(source_directory or context.default_source_directory)
        if script_name is not None and not os.path.isfile(os.path.join(folder, script_name)):
            raise ValueError(
                f"Step [{self.name}]: script not found at: {os.path.join(folder, script_name)}. "
                "Make sure to specify an appropriate source_directory on the Step or "
                "default_source_directory on the Pipeline.")
        return folder, []

    def create_module_def(self, execution_type: str, input_bindings: list, output_bindings: list,
                          param_defs: list | None = None, create_sequencing_ports: bool = True,
                          allow_reuse: bool = True, version: str | None = None,
                          module_type: str | None = None, arguments: list | None = None,
                          runconfig: Any = None, cloud_settings: Any = None) -> dict[str, Any]:
        """The definition of the module this step's node runs: its ports, parameters, reuse
        setting, version and annotated arguments (what a `Module` version records)."""
        annotated = self.resolve_input_arguments(arguments or [], self._inputs, self._outputs, {})[1] \
            if arguments is not None else []
        return {"name": self.name, "execution_type": execution_type, "module_type": module_type,
                "inputs": [b.name for b in input_bindings],
                "outputs": [getattr(b, "_output_name", b.name) for b in output_bindings],
                "params": {getattr(p, "name", str(p)): getattr(p, "default_value", None)
                           for p in param_defs or []},
                "sequencing_ports": bool(create_sequencing_ports), "allow_reuse": bool(allow_reuse),
                "version": version, "arguments": annotated,
                "runconfig": runconfig._to_spec() if hasattr(runconfig, "_to_spec") else runconfig}

    def create_node(self, graph: Any, default_datastore: Any, context: Any) -> Any:
        """This step as its node of the PipelineSpec, a `StepSpec` (`context` is the Pipeline's
        build context)."""
        return self._compile(context)  # type: ignore[attr-defined]
