"""Steps that are not a plain Python script: DataTransferStep, DatabricksStep, ModuleStep."""
from __future__ import annotations

import os
from typing import Any

from runner.sdk.data import DataReference
from runner.step_runtime.exceptions import UserErrorException
from runner.sdk.pipeline_data import PipelineData, PipelineParameter
from runner.sdk.steps.base import BuildContext, PipelineStep
from runner.sdk.steps.module_binding import bind_module_input, bind_module_output
from runner.sdk.steps.script_steps import compute_target_name, log
from runner.spec import RunConfigSpec, StepSpec, Token


class DataTransferStep(PipelineStep):
    """Copy data between datastores; locally the runner copies the files itself."""

    def __init__(self, name: str, source_data_reference: Any = None,
                 destination_data_reference: Any = None, compute_target: Any = None,
                 source_reference_type: str | None = None,
                 destination_reference_type: str | None = None, allow_reuse: bool = True) -> None:
        for key, value in dict(name=name, source_data_reference=source_data_reference,
                               destination_data_reference=destination_data_reference,
                               compute_target=compute_target).items():
            if value is None:
                raise ValueError(f"{key} is required for DataTransferStep")
        for key, value in (("source_reference_type", source_reference_type),
                           ("destination_reference_type", destination_reference_type)):
            if value is not None and value not in ("file", "directory"):
                raise ValueError(f"{key} must be 'file' or 'directory', not {value!r}")
        destination = destination_data_reference
        if isinstance(destination, DataReference):
            destination = destination.as_upload()
        super().__init__(name, [source_data_reference], [destination])
        self._compute_target = compute_target
        self._allow_reuse = allow_reuse
        self._source_type = source_reference_type
        self._destination_type = destination_reference_type
        self._output: PipelineData | None = None

    def get_output(self) -> PipelineData:
        """The copied data as PipelineData, to make a later step read it (and wait for this)."""
        destination = self._outputs[0]
        if isinstance(destination, PipelineData):
            return destination
        if self._output is None:
            self._output = PipelineData(self._output_ports[0], datastore=destination.datastore)
            self._output._set_producer(self)
        return self._output

    def _compile(self, ctx: BuildContext) -> StepSpec:
        return self._compile_base(
            ctx, "data_transfer",
            compute_target=compute_target_name(self._compute_target, ctx.workspace, check=False),
            source_reference_type=self._source_type,
            destination_reference_type=self._destination_type)


class DatabricksStep(PipelineStep):
    """A Databricks job. A `python_script_name` from `source_directory` runs locally as a
    Python script; notebooks, DBFS scripts and JARs need Databricks and fail with a reason."""

    def __init__(self, name: str, inputs: list | None = None, outputs: list | None = None,
                 existing_cluster_id: str | None = None, spark_version: str | None = None,
                 node_type: str | None = None, instance_pool_id: str | None = None,
                 num_workers: int | None = None, min_workers: int | None = None,
                 max_workers: int | None = None, spark_env_variables: dict | None = None,
                 spark_conf: dict | None = None, init_scripts: list | None = None,
                 cluster_log_dbfs_path: str | None = None, notebook_path: str | None = None,
                 notebook_params: dict | None = None, python_script_path: str | None = None,
                 python_script_params: list | None = None, main_class_name: str | None = None,
                 jar_params: list | None = None, python_script_name: str | None = None,
                 source_directory: str | None = None, hash_paths: list | None = None,
                 run_name: str | None = None, timeout_seconds: int | None = None,
                 runconfig: Any = None, maven_libraries: list | None = None,
                 pypi_libraries: list | None = None, egg_libraries: list | None = None,
                 jar_libraries: list | None = None, rcran_libraries: list | None = None,
                 compute_target: Any = None, allow_reuse: bool = True, version: str | None = None,
                 permit_cluster_restart: bool | None = None) -> None:
        if not name:
            raise ValueError("name is required for DatabricksStep")
        if compute_target is None:
            raise ValueError("compute_target is required for DatabricksStep")
        entries = [notebook_path, python_script_path, python_script_name, main_class_name]
        if sum(e is not None for e in entries) != 1:
            raise ValueError("Exactly one of notebook_path, python_script_path, "
                             "python_script_name or main_class_name must be given")
        if existing_cluster_id is None:
            if (num_workers is None) == (min_workers is None or max_workers is None):
                raise ValueError("A new cluster needs either num_workers or both min_workers "
                                 "and max_workers")
        if node_type is not None and instance_pool_id is not None:
            raise ValueError("node_type and instance_pool_id cannot both be given")
        if python_script_name is not None and source_directory is None:
            raise ValueError("python_script_name needs source_directory")
        if permit_cluster_restart is not None and existing_cluster_id is None:
            raise ValueError("permit_cluster_restart needs existing_cluster_id")
        libraries = [maven_libraries, pypi_libraries, egg_libraries, jar_libraries, rcran_libraries]
        if runconfig is not None and any(libraries):
            raise ValueError("runconfig cannot be combined with library arguments")
        super().__init__(name, inputs, outputs)
        self._compute_target = compute_target
        self._allow_reuse = allow_reuse
        self._job = {"notebook_path": notebook_path, "notebook_params": notebook_params or {},
                     "python_script_path": python_script_path, "main_class_name": main_class_name,
                     "python_script_name": python_script_name,
                     "python_script_params": [str(p) for p in python_script_params or []],
                     "run_name": run_name, "num_workers": num_workers,
                     "existing_cluster_id": existing_cluster_id,
                     "pypi_libraries": [str(p) for p in pypi_libraries or []],
                     "timeout_seconds": timeout_seconds}
        self._source_directory = source_directory
        self._params_objects = python_script_params or []

    def _validate_at_build(self, ctx: BuildContext) -> None:
        job = self._job
        if not job["python_script_name"]:
            what = (f"the notebook {job['notebook_path']}" if job["notebook_path"] else
                    f"the JAR class {job['main_class_name']}" if job["main_class_name"] else
                    f"the DBFS script {job['python_script_path']}")
            raise UserErrorException(
                f"DatabricksStep [{self.name}] runs {what}, which needs Databricks; amlocal runs "
                "Databricks steps locally only as python_script_name= from source_directory= "
                "(put the code in a .py script)")
        compute_target_name(self._compute_target, ctx.workspace)
        if self._job["python_script_name"]:
            script = os.path.join(os.path.abspath(self._source_directory),
                                  self._job["python_script_name"])
            if not os.path.isfile(script):
                raise ValueError(f"Step [{self.name}]: script not found at: {script}. Make sure "
                                 "to specify an appropriate source_directory on the Step.")

    def _compile(self, ctx: BuildContext) -> StepSpec:
        # Databricks passes data as `--<name> <path>` pairs after the script's own params.
        arguments = [self._compile_argument(p, ctx) for p in self._params_objects]
        for port in self._input_ports:
            arguments += [Token("literal", f"--{port}"), Token("input", port)]
        for port in self._output_ports:
            arguments += [Token("literal", f"--{port}"), Token("output", port)]
        return self._compile_base(
            ctx, "python" if self._job["python_script_name"] else "databricks",
            script_name=self._job["python_script_name"],
            source_directory=(os.path.abspath(self._source_directory)
                              if self._source_directory else None),
            arguments=tuple(arguments),
            compute_target=compute_target_name(self._compute_target, ctx.workspace, check=False),
            databricks=dict(self._job))


class ModuleStep(PipelineStep):
    """Run one version of a published `Module`, binding its ports to this pipeline's data.

    As in the SDK, each object in `inputs_map` / `outputs_map` is bound under the module's
    port name (a PipelineData mapped to output port `out` is written as `out`, and later steps
    read it as usual); a port definition's defaults (mode, path, overwrite, datastore) apply
    unless the mapping chose its own.
    """

    def __init__(self, module: Any = None, version: str | None = None, module_version: Any = None,
                 inputs_map: dict | None = None, outputs_map: dict | None = None,
                 compute_target: Any = None, runconfig: Any = None,
                 runconfig_pipeline_params: dict | None = None, arguments: list | None = None,
                 params: dict | None = None, name: str | None = None,
                 _workflow_provider: Any = None) -> None:
        if module is None and module_version is None:
            raise ValueError("Exactly one of module or module_version is required but both are missing")
        if module is not None and module_version is not None:
            raise ValueError("Exactly one of module or module_version is required but both are provided")
        if module_version is None:
            if module.status == "Disabled":
                raise ValueError(f"Module {module.name} is disabled; enable() it to use it")
            module_version = module.resolve(version)
        if module_version.status == "Disabled":
            raise ValueError(f"Version {module_version.version} of module {module_version.module_name} "
                             "is disabled; enable() it or pick another version")
        if module_version.status == "Deprecated":
            log.warning("Version %s of module %s is deprecated", module_version.version,
                        module_version.module_name)
        self._module_version = module_version
        definition = module_version.definition
        inputs_map = dict(inputs_map or {})
        outputs_map = dict(outputs_map or {})
        module_name = module_version.module_name
        unknown = (set(inputs_map) - set(definition["inputs"])) | (set(outputs_map) - set(definition["outputs"]))
        if unknown:
            raise ValueError(f"ports {sorted(unknown)} are not defined by module {module_name}")
        input_defs = definition.get("input_defs") or {}
        for port in definition["inputs"]:
            if port not in inputs_map and not (input_defs.get(port) or {}).get("optional"):
                raise ValueError(f"ModuleStep [{name or module_name}]: input {port} of module "
                                 f"{module_name} is not optional; map it in inputs_map")
        inputs = [bind_module_input(port, obj, input_defs.get(port) or {})
                  for port, obj in inputs_map.items()]
        output_defs = definition.get("output_defs") or {}
        for port, obj in outputs_map.items():
            bind_module_output(port, obj, output_defs.get(port) or {}, module_version._workspace)
        super().__init__(name or module_name, inputs, list(outputs_map.values()), arguments,
                         fix_port_name_collisions=True)
        self._compute_target = compute_target
        self._runconfig = runconfig
        self._params = dict(params or {})
        self._has_own_arguments = arguments is not None
        self._allow_reuse = definition.get("allow_reuse", True)

    def _validate_at_build(self, ctx: BuildContext) -> None:
        compute_target_name(self._compute_target, ctx.workspace)

    def _compile(self, ctx: BuildContext) -> StepSpec:
        definition = self._module_version.definition
        params = {k: Token("literal", str(v)) for k, v in definition.get("params", {}).items()}
        for key, value in self._params.items():
            params[key] = (self._compile_argument(value, ctx) if isinstance(value, PipelineParameter)
                           else Token("literal", str(value)))
        runconfig = (self._runconfig._to_spec() if self._runconfig is not None
                     else RunConfigSpec.from_json(definition.get("runconfig")))
        fields: dict = {}
        if not self._has_own_arguments:
            fields["arguments"] = tuple(Token.from_json(t) for t in definition["arguments"])
        return self._compile_base(
            ctx, "python", script_name=definition["script_name"],
            snapshot_id=definition["snapshot_id"], params=params, runconfig=runconfig,
            compute_target=compute_target_name(self._compute_target, ctx.workspace, check=False),
            module={"name": self._module_version.module_name,
                    "version": self._module_version.version}, **fields)
