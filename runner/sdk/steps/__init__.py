"""Pipeline step types."""
from runner.sdk.steps.base import PipelineStep
from runner.sdk.steps.command_step import CommandStep
from runner.sdk.steps.other_steps import DatabricksStep, DataTransferStep, ModuleStep
from runner.sdk.steps.parallel_run_config import ParallelRunConfig
from runner.sdk.steps.parallel_run_step import ParallelRunStep
from runner.sdk.steps.script_steps import EstimatorStep, MpiStep, PythonScriptStep

__all__ = ["PipelineStep", "PythonScriptStep", "CommandStep", "EstimatorStep", "MpiStep",
           "DataTransferStep", "DatabricksStep", "ModuleStep", "ParallelRunConfig",
           "ParallelRunStep"]
