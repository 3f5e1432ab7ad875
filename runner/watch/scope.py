"""What a watched pipeline depends on: which paths to watch, which changes to ignore, and
which steps a changed file invalidates. Pure over a PipelineSpec and a workspace layout."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from runner.spec import PipelineSpec
from store.layout import WorkspaceLayout
from store.snapshots import ALWAYS_EXCLUDED_DIRS, load_ignore_spec

# Editor swap, backup and temp files, and bytecode: saving never means these changed.
_TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".pyc", "~")
_TEMP_PREFIXES = (".#", "#")
_TEMP_NAMES = {"4913", ".DS_Store"}
_IGNORED_DIRS = ALWAYS_EXCLUDED_DIRS | {"__pycache__", ".ipynb_checkpoints"}


@dataclass
class WatchScope:
    """The watched files of one pipeline and the steps each of them feeds."""

    script: Path | None  # None: a pipeline submitted without `amlocal run` (no script to re-evaluate)
    layout: WorkspaceLayout
    spec: PipelineSpec
    sources: dict[Path, list[str]] = field(default_factory=dict)  # source dir → node ids
    inputs: dict[Path, list[str]] = field(default_factory=dict)   # datastore path → node ids
    _ignores: dict[Path, pathspec.PathSpec | None] = field(default_factory=dict)

    @staticmethod
    def of(script: Path | None, layout: WorkspaceLayout, spec: PipelineSpec) -> "WatchScope":
        """The scope of `spec` (submitted by `script`, if known) in `layout`'s workspace."""
        scope = WatchScope(Path(script).resolve() if script else None, layout, spec)
        for step in spec.steps:
            if step.source_directory:
                folder = Path(step.source_directory).resolve()
                scope.sources.setdefault(folder, []).append(step.node_id)
            for inp in step.inputs:
                if inp.source.type == "datastore":
                    where = (layout.datastore_dir(inp.source.datastore or "") / (inp.source.path or "")).resolve()
                    scope.inputs.setdefault(where, []).append(step.node_id)
        scope._ignores = {folder: load_ignore_spec(folder) for folder in scope.sources}
        return scope

    def paths(self) -> list[Path]:
        """What to hand the file watcher (existing folders only; the script's own folder)."""
        wanted = {*self.sources, *(p if p.is_dir() else p.parent for p in self.inputs)}
        if self.script is not None:
            wanted.add(self.script.parent)
        return sorted(p for p in wanted if p.exists())

    def _under(self, path: Path, roots) -> list[Path]:
        return [root for root in roots if path == root or root in path.parents]

    def steps_fed_by(self, path: Path) -> set[str]:
        """The nodes whose result a change of `path` can alter (none for an ignored path)."""
        path = Path(path).resolve()
        name = path.name
        if name in _TEMP_NAMES or name.endswith(_TEMP_SUFFIXES) or name.startswith(_TEMP_PREFIXES):
            return set()
        nodes: set[str] = set()
        for root in self._under(path, self.inputs):
            nodes.update(self.inputs[root])
        if nodes:
            return nodes  # datastore data: never a step's source, whatever folder holds it
        if self.layout.root == path or self.layout.root in path.parents:
            return set()  # outputs, snapshots, run folders: written by runs, not by the user
        for root in self._under(path, self.sources):
            relative = path.relative_to(root)
            if any(part in _IGNORED_DIRS for part in relative.parts):
                continue  # .git, __pycache__, … inside a source directory
            spec = self._ignores.get(root)
            if spec is not None and spec.match_file(relative.as_posix()):
                continue
            nodes.update(self.sources[root])
        return nodes

    def is_script(self, path: Path) -> bool:
        return self.script is not None and Path(path).resolve() == self.script

    def invalidated(self, nodes: set[str]) -> set[str]:
        """`nodes` and every step downstream of them."""
        return self.spec.graph().closure(nodes)

    def save_sets(self) -> list[set[str]]:
        """What a save in each step's source folder reruns (`invalidated`), in pipeline order,
        each set once."""
        sets: list[set[str]] = []
        for step in self.spec.ordered_steps():
            for nodes in self.sources.values():
                if step.node_id in nodes:
                    stale = self.invalidated(set(nodes))
                    if stale not in sets:
                        sets.append(stale)
        return sets

    def names(self, nodes: set[str]) -> list[str]:
        """Step names of `nodes`, in pipeline order."""
        return self.spec.names(nodes)
