"""CPU and memory of a running step, for the dashboard: psutil for a local process group,
the engine's stats for a container."""
from __future__ import annotations

from dataclasses import dataclass

import psutil

from runner.engine.liveness import process_alive


@dataclass(frozen=True)
class Usage:
    """CPU in percent of one core (since the previous sample) and resident memory in MiB."""

    cpu_percent: float
    memory_mib: float


class UsageSampler:
    """Samples steps again and again; CPU is measured between consecutive samples."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self._container_cpu: dict[str, tuple[int, int]] = {}

    def process(self, pid: int, create_time: float | None) -> Usage | None:
        """Usage of the process tree of `pid` (None once it is gone)."""
        if not process_alive(pid, create_time):
            self._procs.pop(pid, None)
            return None
        try:
            root = self._procs.setdefault(pid, psutil.Process(pid))
            tree = [root, *root.children(recursive=True)]
            cpu = sum(p.cpu_percent(None) for p in tree)
            memory = sum(p.memory_info().rss for p in tree)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return Usage(cpu, memory / 2**20)

    def container(self, step_run_id: str) -> Usage | None:
        """Usage of the container of step run `step_run_id` (None if it has none)."""
        from runner.executors.docker import LABEL_STEP_RUN
        from runner.executors.docker_engine import docker_client
        try:
            api = docker_client().api
            found = api.containers(filters={"label": f"{LABEL_STEP_RUN}={step_run_id}"})
            if not found:
                return None
            stats = api.stats(found[0]["Id"], stream=False, one_shot=True)
        except Exception:
            return None
        cpu = stats.get("cpu_stats", {})
        total = cpu.get("cpu_usage", {}).get("total_usage", 0)
        system = cpu.get("system_cpu_usage", 0)
        before = self._container_cpu.get(step_run_id)
        self._container_cpu[step_run_id] = (total, system)
        cores = cpu.get("online_cpus") or psutil.cpu_count() or 1
        percent = 0.0
        if before and system > before[1]:
            percent = (total - before[0]) / (system - before[1]) * cores * 100
        memory = stats.get("memory_stats", {}).get("usage", 0)
        return Usage(percent, memory / 2**20)
