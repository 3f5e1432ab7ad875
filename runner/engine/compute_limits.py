"""What a step may use: CPU, memory, time and network, from its compute target and run config.

Azure gives a step a whole VM of the cluster's `vm_size`; locally the same size becomes a
container limit, clamped to what this machine has. `RunConfiguration.environment.docker.
arguments` (`--cpus`, `--memory`, `--network`) override the compute target, as they would
on a Docker-enabled Azure compute.
"""
from __future__ import annotations

import os
import re
import sqlite3

import psutil

from runner.errors import RunnerError
from runner.executors.base import ResourceLimits
from runner.spec import StepSpec
from store.catalog import get_compute_target

# vCPUs and memory (MiB) of the Azure VM sizes pipelines most often name.
VM_SIZES: dict[str, tuple[int, int]] = {
    "STANDARD_D1_V2": (1, 3584), "STANDARD_D2_V2": (2, 7168), "STANDARD_D3_V2": (4, 14336),
    "STANDARD_D4_V2": (8, 28672), "STANDARD_D5_V2": (16, 57344),
    "STANDARD_DS1_V2": (1, 3584), "STANDARD_DS2_V2": (2, 7168), "STANDARD_DS3_V2": (4, 14336),
    "STANDARD_DS4_V2": (8, 28672), "STANDARD_DS5_V2": (16, 57344),
    "STANDARD_D11_V2": (2, 14336), "STANDARD_D12_V2": (4, 28672), "STANDARD_D13_V2": (8, 57344),
    "STANDARD_D14_V2": (16, 114688),
    "STANDARD_D2_V3": (2, 8192), "STANDARD_D4_V3": (4, 16384), "STANDARD_D8_V3": (8, 32768),
    "STANDARD_D16_V3": (16, 65536), "STANDARD_D2S_V3": (2, 8192), "STANDARD_D4S_V3": (4, 16384),
    "STANDARD_D8S_V3": (8, 32768), "STANDARD_D16S_V3": (16, 65536),
    "STANDARD_E2S_V3": (2, 16384), "STANDARD_E4S_V3": (4, 32768), "STANDARD_E8S_V3": (8, 65536),
    "STANDARD_F2S_V2": (2, 4096), "STANDARD_F4S_V2": (4, 8192), "STANDARD_F8S_V2": (8, 16384),
    "STANDARD_F16S_V2": (16, 32768),
    "STANDARD_NC6": (6, 57344), "STANDARD_NC12": (12, 114688), "STANDARD_NC24": (24, 229376),
    "STANDARD_NC6S_V3": (6, 114688), "STANDARD_NC4AS_T4_V3": (4, 28672),
}
NETWORK_TAG = "amlocal.network"


class ComputeLimitError(RunnerError):
    """A docker argument or compute setting amlocal cannot turn into a limit."""


def _memory_mb(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([bkmg]?)b?", text.strip().lower())
    if not match:
        raise ComputeLimitError(f"--memory {text!r}: use a size such as 512m or 2g")
    number, unit = float(match.group(1)), match.group(2)
    return int(number * {"b": 1 / 2**20, "k": 1 / 1024, "": 1 / 2**20, "m": 1, "g": 1024}[unit])


def _docker_arguments(arguments: list[str]) -> dict[str, str]:
    """`--cpus 2`, `--memory=1g`, `-m 1g`, `--network none` → {"cpus": …, "memory": …, …}."""
    found: dict[str, str] = {}
    names = {"--cpus": "cpus", "--memory": "memory", "-m": "memory", "--network": "network",
             "--net": "network"}
    items = list(arguments)
    while items:
        item = items.pop(0)
        key, _, value = item.partition("=")
        if key in names:
            if not value:
                if not items:
                    raise ComputeLimitError(f"docker argument {key} needs a value")
                value = items.pop(0)
            found[names[key]] = value
    return found


def host_capacity() -> tuple[int, int]:
    """This machine's CPUs and memory (MiB)."""
    return os.cpu_count() or 1, psutil.virtual_memory().total // 2**20


def step_limits(conn: sqlite3.Connection, step: StepSpec) -> tuple[ResourceLimits, list[str]]:
    """The limits of `step`, and notes for its preparation log (clamping, unknown sizes)."""
    notes: list[str] = []
    cpus: float | None = None
    memory: int | None = None
    network: str | None = None
    record = get_compute_target(conn, step.target) if step.target != "local" else None
    if record is not None:
        size = (record.vm_size or "").upper()
        if size in VM_SIZES:
            cpus, memory = VM_SIZES[size]
        elif size:
            notes.append(f"vm_size {record.vm_size} is not in amlocal's table of VM sizes; "
                         "no CPU or memory limit")
        network = record.tags.get(NETWORK_TAG)
    overrides = _docker_arguments(list(step.environment.docker_arguments))
    if "cpus" in overrides:
        try:
            cpus = float(overrides["cpus"])
        except ValueError:
            raise ComputeLimitError(f"--cpus {overrides['cpus']!r}: use a number such as 1.5")
    if "memory" in overrides:
        memory = _memory_mb(overrides["memory"])
    network = overrides.get("network", network)
    host_cpus, host_memory = host_capacity()
    if cpus is not None and cpus > host_cpus:
        notes.append(f"{cpus:g} CPUs asked for, this machine has {host_cpus}: limit {host_cpus}")
        cpus = float(host_cpus)
    if memory is not None and memory > host_memory:
        notes.append(f"{memory} MiB asked for, this machine has {host_memory} MiB: limit {host_memory}")
        memory = host_memory
    timeout = step.runconfig.max_run_duration_seconds if step.runconfig else None
    return ResourceLimits(cpus=cpus, memory_mb=memory, timeout_seconds=timeout,
                          network=network), notes
