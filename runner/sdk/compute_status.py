"""`AmlCompute.get_status()`: the SDK's status objects, from what runs on the target now.

A local cluster has no machines; a *node* is a step of the target that is running (or being
prepared: its image built). So `current_node_count` is how many of its steps occupy a node,
never more than `max_nodes`, and the scale settings are those it was created with.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from store import status as st
from store.compute_usage import StepRunOnTarget, active_step_runs_on


def _seconds_to_duration(seconds: int | None) -> str:
    """ISO 8601 duration, as the SDK serialises `idle_seconds_before_scaledown` (PT30M)."""
    if not seconds:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + \
        (f"{secs}S" if secs else "")


class ScaleSettings:
    """The node range of a cluster and how long an idle node is kept."""

    def __init__(self, minimum_node_count: int, maximum_node_count: int,
                 idle_seconds_before_scaledown: int | None) -> None:
        self.minimum_node_count = minimum_node_count
        self.maximum_node_count = maximum_node_count
        self.idle_seconds_before_scaledown = idle_seconds_before_scaledown

    def serialize(self) -> dict[str, Any]:
        return {"minNodeCount": self.minimum_node_count, "maxNodeCount": self.maximum_node_count,
                "nodeIdleTimeBeforeScaleDown": _seconds_to_duration(self.idle_seconds_before_scaledown)}


class AmlComputeNodeStateCounts:
    """How many nodes are in each state."""

    def __init__(self, idle_node_count: int, leaving_node_count: int, preempted_node_count: int,
                 preparing_node_count: int, running_node_count: int, unusable_node_count: int) -> None:
        self.idle_node_count = idle_node_count
        self.leaving_node_count = leaving_node_count
        self.preempted_node_count = preempted_node_count
        self.preparing_node_count = preparing_node_count
        self.running_node_count = running_node_count
        self.unusable_node_count = unusable_node_count

    def serialize(self) -> dict[str, int]:
        return {"preparingNodeCount": self.preparing_node_count,
                "runningNodeCount": self.running_node_count, "idleNodeCount": self.idle_node_count,
                "unusableNodeCount": self.unusable_node_count,
                "leavingNodeCount": self.leaving_node_count,
                "preemptedNodeCount": self.preempted_node_count}


class AmlComputeStatus:
    """The detailed status of a cluster, as `AmlCompute.get_status()` returns it."""

    def __init__(self, allocation_state: str, allocation_state_transition_time: dt.datetime | None,
                 creation_time: dt.datetime | None, current_node_count: int, errors: Any,
                 modified_time: dt.datetime | None, node_state_counts: AmlComputeNodeStateCounts,
                 provisioning_state: str, provisioning_state_transition_time: dt.datetime | None,
                 scale_settings: ScaleSettings, target_node_count: int, vm_priority: str,
                 vm_size: str | None) -> None:
        self.allocation_state = allocation_state
        self.allocation_state_transition_time = allocation_state_transition_time
        self.creation_time = creation_time
        self.current_node_count = current_node_count
        self.errors = errors
        self.modified_time = modified_time
        self.node_state_counts = node_state_counts
        self.provisioning_state = provisioning_state
        self.provisioning_state_transition_time = provisioning_state_transition_time
        self.scale_settings = scale_settings
        self.target_node_count = target_node_count
        self.vm_priority = vm_priority
        self.vm_size = vm_size

    def serialize(self) -> dict[str, Any]:
        """The SDK's JSON shape (camelCase keys, ISO times)."""
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None
        return {"currentNodeCount": self.current_node_count,
                "targetNodeCount": self.target_node_count,
                "nodeStateCounts": self.node_state_counts.serialize(),
                "allocationState": self.allocation_state,
                "allocationStateTransitionTime": iso(self.allocation_state_transition_time),
                "errors": self.errors, "creationTime": iso(self.creation_time),
                "modifiedTime": iso(self.modified_time), "provisioningState": self.provisioning_state,
                "provisioningStateTransitionTime": iso(self.provisioning_state_transition_time),
                "scaleSettings": self.scale_settings.serialize(),
                "vmPriority": self.vm_priority, "vmSize": self.vm_size}

    def __repr__(self) -> str:
        return (f"AmlComputeStatus(provisioning_state={self.provisioning_state!r}, "
                f"current_node_count={self.current_node_count})")


def busy_steps(target: Any) -> list[StepRunOnTarget]:
    """The steps of compute target `target` that occupy a node now (preparing or running)."""
    return [s for s in active_step_runs_on(target.workspace._local.conn, target.name)
            if s.status in (st.PREPARING, st.RUNNING)]


def aml_compute_status(target: Any) -> AmlComputeStatus:
    """The status of AmlCompute `target` now."""
    busy = busy_steps(target)
    running = sum(1 for s in busy if s.status == st.RUNNING)
    counts = AmlComputeNodeStateCounts(0, 0, 0, len(busy) - running, running, 0)
    created = dt.datetime.fromtimestamp(target._created_at, dt.timezone.utc) if target._created_at else None
    config = target._config
    scale = ScaleSettings(config.get("min_nodes") or 0, target.max_nodes,
                          config.get("idle_seconds_before_scaledown"))
    return AmlComputeStatus("Steady", created, created, len(busy), None, created, counts,
                            target.provisioning_state, created, scale, len(busy),
                            config.get("vm_priority") or "dedicated", target.vm_size)


def list_nodes(target: Any) -> list[dict[str, Any]]:
    """One entry per occupied node (a step preparing or running), in the SDK's keys."""
    return [{"nodeId": f"local-node-{i}", "port": None, "publicIpAddress": None,
             "privateIpAddress": "127.0.0.1", "nodeState": step.status.lower(), "runId": step.id}
            for i, step in enumerate(busy_steps(target))]


def _vm_size_name(key: str) -> str:
    """`STANDARD_DS3_V2` → `Standard_DS3_v2` (the SDK's spelling)."""
    words = key.split("_")
    return "_".join(["Standard"] + [re.sub(r"^V(\d+)$", r"v\1", w) for w in words[1:]])


def supported_vm_sizes() -> list[dict[str, Any]]:
    """The VM sizes amlocal knows (and turns into CPU and memory limits), in the SDK's keys."""
    from runner.engine.compute_limits import VM_SIZES
    return [{"name": _vm_size_name(key), "vCPUs": cpus, "memoryGB": round(memory_mb / 1024, 2)}
            for key, (cpus, memory_mb) in VM_SIZES.items()]
