"""`CommandStep`: a step that runs a command (`python train.py --epochs 3`, `ls -lrt`, …).

As in the SDK, the command is split like a shell would (`shlex`); its first word is the
program and the rest, with any data objects and parameters of a list-form command, are its
arguments, resolved like a PythonScriptStep's. `python` (or `python3`) runs with the step's
Python, as a PythonScriptStep's script does. The command runs in the step's snapshot of
`source_directory` (the current folder when none is given).
"""
from __future__ import annotations

import os
import shlex
from typing import Any

from runner.sdk.runconfig import RunConfiguration
from runner.sdk.steps.script_steps import _PythonScriptStepBase


class CommandStep(_PythonScriptStepBase):
    """Run `command` on the compute target, with inputs, outputs and parameters."""

    def __init__(self, command: str | list | None = None, name: str | None = None,
                 compute_target: Any = None, runconfig: Any = None,
                 runconfig_pipeline_params: dict | None = None, inputs: list | None = None,
                 outputs: list | None = None, params: dict | None = None,
                 source_directory: str | None = None, allow_reuse: bool = True,
                 version: str | None = None) -> None:
        if runconfig is not None and not isinstance(runconfig, RunConfiguration):
            # a ScriptRunConfig-like object: its folder, command and run configuration
            source_directory = source_directory or getattr(runconfig, "source_directory", None)
            command = command or getattr(runconfig, "command", None)
            runconfig = runconfig.run_config
        if runconfig is not None:
            command = command or runconfig.command
        if not command:
            raise ValueError("command is required either from command directly or runconfig.")
        first = command[0] if isinstance(command, list) else command
        if not isinstance(first, str):
            raise ValueError("the first item of a command list must be a string (the program)")
        words = shlex.split(first)
        if not words:
            raise ValueError("command is empty")
        arguments = words[1:] + (list(command[1:]) if isinstance(command, list) else [])
        if source_directory and not os.path.isdir(source_directory):
            raise ValueError("source_directory should be an existing directory or None for "
                             "commands already in the target system.")
        super().__init__(None, name or f"CommandStep_{words[0]}", arguments, compute_target,
                         runconfig, runconfig_pipeline_params, inputs, outputs, params,
                         source_directory or os.getcwd(), allow_reuse, version, command=words[0])
