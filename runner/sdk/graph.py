"""Building a pipeline graph from steps: closure, de-duplication, order, cycles.

Follows the SDK's builder: a step appears once however often it is listed (identity), the
producers of consumed data and `run_after` predecessors join automatically unless
`resolve_closure=False`, and `StepSequence` adds ordering edges. Cycles are not an error
when building (as in the SDK) but are reported by `validate()` and refused at submit.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from runner.sdk.pipeline_data import PipelineData
from runner.sdk.steps.base import PipelineStep
from runner.spec import DependencyGraph


class StepSequence:
    """Steps (or lists of steps) that run one after another."""

    def __init__(self, steps: list | None = None) -> None:
        self._steps = list(steps or [])


@dataclass
class StepGraph:
    """The steps of a pipeline, their node ids, dependencies and a run order."""

    steps: list[PipelineStep]
    node_ids: dict[int, str]
    sequence_edges: dict[int, list[PipelineStep]] = field(default_factory=dict)
    order: list[PipelineStep] = field(default_factory=list)
    cycle_errors: list[str] = field(default_factory=list)

    def upstream(self, step: PipelineStep) -> list[PipelineStep]:
        ups = step._upstream_steps() + self.sequence_edges.get(id(step), [])
        seen: dict[int, PipelineStep] = {}
        for u in ups:
            seen.setdefault(id(u), u)
        return list(seen.values())


def _flatten(item: Any, out: list[PipelineStep], seq_edges: dict[int, list[PipelineStep]]) -> list[PipelineStep]:
    """Add the steps of `item` to `out`; returns the steps `item` stands for."""
    if isinstance(item, PipelineStep):
        out.append(item)
        return [item]
    if isinstance(item, PipelineData):
        if item._producer is None:
            raise ValueError(f"PipelineData {item.name} is not an output of any step")
        out.append(item._producer)
        return [item._producer]
    if isinstance(item, StepSequence):
        previous: list[PipelineStep] = []
        everything: list[PipelineStep] = []
        for element in item._steps:
            current = _flatten(element, out, seq_edges)
            for step in current:
                seq_edges.setdefault(id(step), []).extend(previous)
            previous = current
            everything.extend(current)
        return everything
    if isinstance(item, (list, tuple)):
        result: list[PipelineStep] = []
        for element in item:
            result.extend(_flatten(element, out, seq_edges))
        return result
    raise NotImplementedError(f"steps of type {type(item).__name__} are not supported; "
                              "pass steps, lists of steps, a StepSequence or PipelineData")


def build_graph(steps: Any, resolve_closure: bool) -> StepGraph:
    """The graph for the `steps` argument of `Pipeline(...)`."""
    listed: list[PipelineStep] = []
    seq_edges: dict[int, list[PipelineStep]] = {}
    _flatten(steps, listed, seq_edges)
    unique: dict[int, PipelineStep] = {}
    for step in listed:
        unique.setdefault(id(step), step)
    if resolve_closure:
        queue = list(unique.values())
        while queue:
            step = queue.pop()
            for up in step._upstream_steps():
                if id(up) not in unique:
                    unique[id(up)] = up
                    queue.append(up)
    graph = StepGraph(list(unique.values()), {id(s): uuid.uuid4().hex[:8] for s in unique.values()},
                      seq_edges)
    for step in graph.steps:
        missing = step._data_inputs_without_producer()
        if missing:
            raise ValueError(f"Input {missing[0]} on step {step.name} is not connected to any "
                             "previous step (no step lists it in outputs=)")
        for up in graph.upstream(step):
            if id(up) not in unique:
                raise ValueError()  # the SDK raises a bare ValueError here (resolve_closure=False)
    _order(graph)
    return graph


def _order(graph: StepGraph) -> None:
    """Topological order (stable in listing order); steps on a cycle are reported instead."""
    by_node = {graph.node_ids[id(s)]: s for s in graph.steps}
    dependencies = DependencyGraph({graph.node_ids[id(s)]: [graph.node_ids[id(u)] for u in graph.upstream(s)]
                                    for s in graph.steps})
    on_cycle = dependencies.cycle_nodes()
    for node in on_cycle:
        graph.cycle_errors.append(f"Cycle detected including node {by_node[node].name}({node})")
    if not on_cycle:
        graph.order.extend(by_node[node] for node in dependencies.topological_order())
