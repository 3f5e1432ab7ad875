"""Executors run one step invocation each; local processes now, Docker containers later."""
from runner.executors.base import Executor, ResourceLimits, RunningStep, StepInvocation, StepOutcome

__all__ = ["Executor", "ResourceLimits", "RunningStep", "StepInvocation", "StepOutcome"]
