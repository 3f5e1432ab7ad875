"""A run's steps as a graph: topological layers of boxes, coloured by status, with their edges.

`dag_layers` and `render_dag` are pure (tested without a screen); `DagView` is the widget the
run screen shows instead of its steps table (`d`), moving a cursor over the steps with the
arrow keys and posting `DagStepHighlighted` as the table posts its row highlights.
"""
from __future__ import annotations

import graphlib
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Static

from tui.dashboard.keyed_table import STATUS_STYLE
from tui.dashboard.messages import DagStepHighlighted
from tui.formatting import shown

STATUS_MARK = {"Finished": "✓", "Failed": "✗", "Running": "▶", "Canceled": "⊘",
               "Queued": "…", "Preparing": "…", "NotStarted": "·"}
NAME_WIDTH = 24  # longer step names are cut with "…" so a box stays on one line at 80 columns


@dataclass(frozen=True)
class DagStep:
    """One step as the graph shows it: its key (step run id), name, status and what it waits for."""

    key: str
    name: str
    status: str
    upstream: tuple[str, ...] = ()


def dag_layers(upstream: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The nodes in topological layers: each node one layer below the deepest node it waits for.

    Within a layer nodes keep the order of `upstream`; nodes it does not name are ignored.
    Raises `graphlib.CycleError` on a cycle.
    """
    known = {node: [u for u in ups if u in upstream] for node, ups in upstream.items()}
    position = {node: i for i, node in enumerate(known)}
    depth: dict[str, int] = {}
    for node in graphlib.TopologicalSorter(known).static_order():
        depth[node] = 1 + max((depth[u] for u in known[node]), default=-1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in sorted(depth, key=position.__getitem__):
        layers[depth[node]].append(node)
    return layers


def dag_order(steps: Sequence[DagStep]) -> list[str]:
    """The step keys in the order the graph shows them (layer by layer): the cursor's path."""
    return [key for layer in dag_layers({s.key: s.upstream for s in steps}) for key in layer]


def dag_line(steps: Sequence[DagStep], key: str | None) -> int | None:
    """The line of `render_dag`'s text that shows step `key` (None if no step has that key)."""
    line = 0
    for layer in dag_layers({s.key: s.upstream for s in steps}):
        line += 1  # the layer's header
        for node in layer:
            if node == key:
                return line
            line += 1
    return None


def _box(step: DagStep, selected: bool) -> Text:
    name = shown(step.name)
    if len(name) > NAME_WIDTH:
        name = name[:NAME_WIDTH - 1] + "…"
    style = STATUS_STYLE.get(step.status, "")
    box = Text(f"[{STATUS_MARK.get(step.status, '?')} {name}]",
               style=f"{style} reverse".strip() if selected else style)
    return box


def render_dag(steps: Sequence[DagStep], selected: str | None = None) -> Text:
    """The graph as text, one line per step under a header per layer:

        layer 1
          [✓ prep]  Finished
        layer 2
          [✗ train]  Failed  ← prep

    Box and status are in the status colour, the selected step's box reversed; names are
    plain text (never markup) and the edges name the steps each step waits for, in the order
    the graph shows them.
    """
    by_key = {s.key: s for s in steps}
    layers = dag_layers({s.key: s.upstream for s in steps})
    shown_at = {key: i for i, key in enumerate(k for layer in layers for k in layer)}
    out = Text(no_wrap=True, overflow="ellipsis")
    for number, layer in enumerate(layers, start=1):
        if number > 1:
            out.append("\n")
        out.append(f"layer {number}", style="bold")
        for key in layer:
            step = by_key[key]
            out.append("\n  ")
            out.append_text(_box(step, key == selected))
            out.append("  ")
            out.append(step.status, style=STATUS_STYLE.get(step.status, ""))
            ups = [shown(by_key[u].name) for u in sorted(
                (u for u in step.upstream if u in by_key), key=shown_at.__getitem__)]
            if ups:
                out.append("  ← " + ", ".join(ups), style="dim")
    return out


class DagView(VerticalScroll, can_focus=True):
    """The steps as a graph (see `render_dag`), scrolled to keep the cursor in view; ↑/↓ (j/k)
    move step by step in graph order, ←/→ (h/l) to the previous/next layer, g/G to the first
    and last step."""

    DEFAULT_CSS = """
    DagView { height: 10; padding: 0 1; }
    DagView:focus { background: $boost; }
    DagView #dag-text { width: auto; }
    """
    BINDINGS = [Binding("down,j", "move(1)", "Next step", show=False),
                Binding("up,k", "move(-1)", "Previous step", show=False),
                Binding("right,l", "layer(1)", "Next layer", show=False),
                Binding("left,h", "layer(-1)", "Previous layer", show=False),
                Binding("g", "end(0)", "First step", show=False),
                Binding("G", "end(-1)", "Last step", show=False)]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.steps: tuple[DagStep, ...] = ()
        self.selected: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="dag-text")

    def render_text(self) -> str:
        """What the graph shows, as plain text."""
        return render_dag(self.steps, self.selected).plain

    def show_steps(self, steps: Sequence[DagStep], selected: str | None) -> None:
        """Draw `steps` again (live status) with `selected` under the cursor, kept in view."""
        changed = selected != self.selected
        self.steps = tuple(steps)
        self.selected = selected
        self.query_one("#dag-text", Static).update(render_dag(self.steps, selected))
        line = dag_line(self.steps, selected)
        if changed and line is not None:
            # the line and the one above (its layer header, for a layer's first step)
            self.call_after_refresh(self.scroll_to_region, Region(0, line - 1, 1, 2), animate=False)

    def _go(self, key: str) -> None:
        if key != self.selected:
            self.show_steps(self.steps, key)
            self.post_message(DagStepHighlighted(key))

    def action_move(self, step: int) -> None:
        order = dag_order(self.steps)
        if order:
            here = order.index(self.selected) if self.selected in order else -1
            self._go(order[max(0, min(len(order) - 1, here + step))])

    def action_layer(self, step: int) -> None:
        layers = dag_layers({s.key: s.upstream for s in self.steps})
        if not layers:
            return
        here = next((i for i, layer in enumerate(layers) if self.selected in layer), 0)
        column = layers[here].index(self.selected) if self.selected in layers[here] else 0
        target = layers[max(0, min(len(layers) - 1, here + step))]
        self._go(target[min(column, len(target) - 1)])

    def action_end(self, index: int) -> None:
        order = dag_order(self.steps)
        if order:
            self._go(order[index])
