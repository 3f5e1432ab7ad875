"""Which steps of a pipeline run may start now: the scheduling state, apart from any loop.

A step is ready when every step it waits for finished. A ready step starts when its compute
target has a free node (`max_nodes`); with an executor that starts warm, it may instead start
while the nodes are busy and wait, up and held, for one to free up. A failure stops the run's
pending steps (each saying why), or with `continue_on_step_failure` only its dependents.
Pure: no threads, no store, no processes; `runner.engine.run_execution` drives it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from runner.spec import DependencyGraph
from store import status as st


@dataclass(frozen=True)
class Launch:
    """Start step `node` now; `warm`: up and held, until a `Release` for it follows."""

    node: str
    warm: bool = False


@dataclass(frozen=True)
class Release:
    """A warm step got a node: let its script run."""

    node: str


@dataclass(frozen=True)
class NotRun:
    """Step `node` will not run; `reason` says why ("not run: upstream step a failed")."""

    node: str
    reason: str


@dataclass
class SchedulerState:
    """The scheduling state of one pipeline run (see the module docstring).

    `targets` maps each node to its compute target (in spec order), `limits` each target to
    its node count; nodes in `finished` (reused at submit) count as done from the start.
    """

    graph: DependencyGraph
    targets: Mapping[str, str]
    limits: Mapping[str, int]
    names: Mapping[str, str]
    warm_start: bool = False
    continue_on_step_failure: bool = False
    finished: set[str] = field(default_factory=set)
    pending: list[str] = field(default_factory=list)
    running: set[str] = field(default_factory=set)  # launched and not ended (warm ones too)
    waiting: list[str] = field(default_factory=list)  # launched warm, still without a node
    started: set[str] = field(default_factory=set)  # their container or process is up
    in_use: dict[str, int] = field(default_factory=dict)  # target → nodes held
    failures: list[str] = field(default_factory=list)  # names of the failed steps, in order
    stop_reason: str | None = None

    def __post_init__(self) -> None:
        if not self.pending:
            self.pending = [n for n in self.targets if n not in self.finished]

    def _limit(self, target: str) -> int:
        return max(1, self.limits.get(target, 1))

    def _free(self, target: str) -> bool:
        return self.in_use.get(target, 0) < self._limit(target)

    def _hold(self, target: str) -> None:
        self.in_use[target] = self.in_use.get(target, 0) + 1

    def schedule(self) -> list[Launch | Release]:
        """What to do now: give free nodes to warm waiting steps first, then start (or start
        warm) the ready steps, in spec order. Nothing once the run is stopping."""
        if self.stop_reason is not None:
            return []
        actions: list[Launch | Release] = []
        for node in list(self.waiting):
            target = self.targets[node]
            if self._free(target):
                self._hold(target)
                self.waiting.remove(node)
                actions.append(Release(node))
        for node in list(self.pending):
            if not self.graph.dependencies[node] <= self.finished:
                continue
            target = self.targets[node]
            if self._free(target):
                self._hold(target)
                actions.append(self._launch(node, warm=False))
            elif self.warm_start and self._may_start_warm(target):
                # Its container starts now and waits for a node: the start-up cost is paid
                # while the running steps work (once they are up, so as not to slow their
                # start), not after they end. The waiting ones start side by side.
                self.waiting.append(node)
                actions.append(self._launch(node, warm=True))
        return actions

    def _may_start_warm(self, target: str) -> bool:
        warm_here = sum(self.targets[n] == target for n in self.waiting)
        holding = [n for n in self.running if self.targets[n] == target and n not in self.waiting]
        return warm_here < self._limit(target) and all(n in self.started for n in holding)

    def _launch(self, node: str, warm: bool) -> Launch:
        self.pending.remove(node)
        self.running.add(node)
        return Launch(node, warm)

    def step_started(self, node: str) -> None:
        """Step `node`'s container or process is up."""
        self.started.add(node)

    def step_ended(self, node: str, status: str) -> list[NotRun]:
        """Step `node` ended with `status`; returns the steps that now will not run."""
        self.running.discard(node)
        if node in self.waiting:
            self.waiting.remove(node)  # it never got a node
        else:
            self.in_use[self.targets[node]] -= 1
        if status == st.FINISHED:
            self.finished.add(node)
            return []
        if status != st.FAILED:
            return []
        name = self.names[node]
        self.failures.append(name)
        if not self.continue_on_step_failure:
            return self.stop(f"step {name} failed")
        dropped = [n for n in self.pending if n in self.graph.descendants(node)]
        for n in dropped:
            self.pending.remove(n)
        return [NotRun(n, f"not run: upstream step {name} failed") for n in dropped]

    def stop(self, reason: str) -> list[NotRun]:
        """Stop the run (the first reason wins); returns the pending steps, which will not run."""
        if self.stop_reason is None:
            self.stop_reason = reason
        dropped, self.pending = self.pending, []
        return [NotRun(n, f"not run: {self.stop_reason}") for n in dropped]

    @property
    def done(self) -> bool:
        """Nothing runs and nothing more can start (what is pending waits on a failed step)."""
        return not self.running and (not self.pending or not self.schedule_possible())

    def schedule_possible(self) -> bool:
        """Whether some pending step has everything it waits for finished."""
        return self.stop_reason is None and any(
            self.graph.dependencies[n] <= self.finished for n in self.pending)

    def outcome(self) -> tuple[str, str | None]:
        """The run's final status and its reason, once `done`."""
        if self.failures:
            plural = "s" if len(self.failures) > 1 else ""
            return st.FAILED, f"step{plural} failed: {', '.join(self.failures)}"
        if self.stop_reason is not None:
            return st.CANCELED, self.stop_reason
        if self.pending:
            return st.FAILED, "steps could not start: " + ", ".join(self.names[n] for n in self.pending)
        return st.FINISHED, None
