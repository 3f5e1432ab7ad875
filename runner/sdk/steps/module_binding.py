"""Binding pipeline data to a module's ports for `ModuleStep`, as the SDK's ModuleStepBase does.

An input is re-bound under the module's port name (the module's arguments and env vars refer
to that name); an output is written under the port name: the SDK clones the PipelineData with
`_output_name = <port>` and later steps read the clone's data through the original, which is
what setting the port name on the object itself gives here.
"""
from __future__ import annotations

from typing import Any

from runner.sdk.data import DataReference, DatasetConsumptionConfig, OutputDatasetInput, OutputFileDatasetConfig
from runner.sdk.pipeline_data import InputPortBinding, PipelineData


def bind_module_input(port: str, obj: Any, port_def: dict) -> Any:
    """`obj` as the input `port` of a module step; the port's defaults fill what it leaves open."""
    mode, path, overwrite = port_def.get("mode"), port_def.get("path_on_compute"), port_def.get("overwrite")
    from runner.sdk.runs import PortDataReference
    if isinstance(obj, (PipelineData, PortDataReference)):
        return obj.create_input_binding(port, mode or "mount", path, overwrite)
    if isinstance(obj, InputPortBinding):
        if obj.name == port:
            return obj
        return InputPortBinding(port, obj.bind_object, obj.bind_mode, obj.path_on_compute, obj.overwrite)
    if isinstance(obj, DataReference):
        chosen = mode if (mode and obj.mode == "mount") else obj.mode
        return obj._with(data_reference_name=port, mode=chosen,
                         path_on_compute=obj.path_on_compute or path)
    if isinstance(obj, DatasetConsumptionConfig):
        chosen = mode if (mode and obj.mode == "direct") else obj.mode
        return DatasetConsumptionConfig(port, obj.dataset, chosen, obj.path_on_compute or path)
    if isinstance(obj, OutputDatasetInput):
        return OutputDatasetInput(obj.output, port)
    if isinstance(obj, OutputFileDatasetConfig):
        return obj.as_input(port)
    raise ValueError(f"Unexpected input type for module port {port}: {type(obj).__name__}")


def bind_module_output(port: str, obj: Any, port_def: dict, workspace: Any) -> None:
    """Make `obj` the output `port` of a module step (its datastore defaults to the port's)."""
    if isinstance(obj, PipelineData):
        obj._output_name = port
        if obj._datastore is None and port_def.get("datastore"):
            from runner.sdk.datastore import Datastore
            obj._datastore = Datastore(workspace, port_def["datastore"])
        return
    if isinstance(obj, OutputFileDatasetConfig):
        obj._name = port
        return
    raise ValueError(f"Unexpected output type for module port {port}: {type(obj).__name__}")
