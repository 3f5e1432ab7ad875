"""The command line of a ParallelRunStep: its driver with the arguments Azure's gives it.

Azure runs its own driver (`driver/amlbi_main.py`) with `--mini_batch_size 5
--error_threshold 10 … <user arguments> --input_fds_0 <dataset name>` (`--input_ds_0` for a
TabularDataset); the entry script sees
that whole list as `sys.argv` and reads its own options with `parse_known_args`. amlocal
builds the same list from the step's `ParallelSpec` and runs `runner.step_runtime.
parallel_driver` with it.
"""
from __future__ import annotations

from typing import Callable

from runner.engine.run_context import RunContext, StepSetupError
from runner.spec import ParallelSpec, StepSpec, Token, content_hash
from runner.step_runtime import contract


def driver_arguments(step: StepSpec, parallel: ParallelSpec, resolve: Callable[[Token], str],
                     user_arguments: tuple[str, ...]) -> tuple[str, ...]:
    """The driver's arguments, in Azure's order: its settings, the user's, then the inputs."""
    args: list[str] = [
        "--scoring_module_name", parallel.entry_script,
        "--mini_batch_size", resolve(parallel.mini_batch_size),
        "--error_threshold", str(parallel.error_threshold),
        "--output_action", parallel.output_action,
        "--logging_level", resolve(parallel.logging_level),
        "--run_invocation_timeout", resolve(parallel.run_invocation_timeout),
        "--run_max_try", resolve(parallel.run_max_try)]
    if parallel.allowed_failed_count is not None:
        args += ["--allowed_failed_count", str(parallel.allowed_failed_count)]
    if parallel.allowed_failed_percent is not None:
        args += ["--allowed_failed_percent", str(parallel.allowed_failed_percent)]
    if parallel.output_action.lower() == "append_row" and parallel.append_row_file_name:
        args += ["--append_row_file_name", parallel.append_row_file_name]
    if parallel.output is not None:
        args += ["--output", resolve(Token("output", parallel.output))]
    if parallel.process_count_per_node is not None:
        args += ["--process_count_per_node", resolve(parallel.process_count_per_node)]
    if parallel.partition_keys is not None:
        args += ["--partition_keys", resolve(parallel.partition_keys)]
    args += user_arguments
    names = {i.port: i.dataset for i in step.inputs}
    flag = "--input_ds_" if parallel.input_type == "tabular" else "--input_fds_"
    for index, port in enumerate(parallel.inputs):
        if not names.get(port):
            raise StepSetupError(f"ParallelRunStep input {port} is not a named dataset input")
        args += [f"{flag}{index}", str(names[port])]
    return tuple(args)


def driver_environment(parallel: ParallelSpec, resolve: Callable[[Token], str]) -> dict[str, str]:
    """The node count and the target's max_nodes, which Azure gives its driver as its cluster."""
    env = {contract.PARALLEL_NODE_COUNT: resolve(parallel.node_count)}
    if parallel.max_nodes is not None:
        env[contract.PARALLEL_MAX_NODES] = str(parallel.max_nodes)
    return env


def cache_key(ctx: RunContext, step: StepSpec, snapshot_id: str | None,
              environment_identity: str) -> str | None:
    """What names the folder of the step's kept mini-batch results: its definition, snapshot,
    environment, argument tokens and the parameter values it reads. None when results must
    not be kept: reuse off, `regenerate_outputs`, or `summary_only` (whose entry script writes
    its own files, which rows alone cannot give back)."""
    parallel = step.parallel
    if parallel is None or not step.allow_reuse or ctx.run.regenerate_outputs or \
            parallel.output_action != "append_row":
        return None
    return content_hash({"definition": step.definition(), "snapshot": snapshot_id,
                         "environment": environment_identity,
                         "arguments": [t.to_json() for t in step.arguments],
                         "environment_variables": dict(step.environment.environment_variables),
                         "parameters": {name: ctx.parameters.get(name)
                                        for name in step.used_parameters()}})


def side_input_ports(step: StepSpec) -> list[str]:
    """The step's inputs that are not split into mini-batches (its side inputs)."""
    primary = set(step.parallel.inputs if step.parallel else ())
    return [i.port for i in step.inputs if i.port not in primary]
