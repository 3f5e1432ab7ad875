"""What `amlocal rm` and `amlocal gc` remove, and removing it, with the bytes it frees.

`rm RUN…` removes runs (never an active one, nor one another kept run reuses). `gc` removes
the ended runs created before a time, except those a kept run reuses; then what no kept run
uses any more: snapshots (and their files no other snapshot holds), dataset selections (a
cache that a step needing one rebuilds; only when no run is going on), and the environment
images (`amlocal-env:*`) the removed runs ran in that no kept run ran in.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from runner.engine.dataset_selection import SELECTIONS_DIRNAME
from runner.errors import RunnerError
from store import run_removal
from store.runs import active_run_ids, get_pipeline_run
from store.workspace import OpenWorkspace

ENV_IMAGE_PREFIX = "amlocal-env:"


@dataclass
class Removal:
    """What is to be removed, each with its bytes; `kept` names runs kept because others
    reuse them; `notes` say what was not looked at."""

    runs: dict[str, int] = field(default_factory=dict)           # run id → bytes of its folder
    snapshots: dict[str, int] = field(default_factory=dict)      # snapshot id → bytes only it holds
    selections: dict[Path, int] = field(default_factory=dict)
    images: dict[str, tuple[str, int]] = field(default_factory=dict)  # id → (tag, size)
    kept: dict[str, set[str]] = field(default_factory=dict)      # run id → the runs that reuse it
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """The bytes it frees (images: their size, shared layers counted in)."""
        return (sum(self.runs.values()) + sum(self.snapshots.values())
                + sum(self.selections.values()) + sum(size for _, size in self.images.values()))

    @property
    def empty(self) -> bool:
        return not (self.runs or self.snapshots or self.selections or self.images)


def _checked_runs(local: OpenWorkspace, run_ids: list[str]) -> None:
    """Refuse an active run, or a run another run (not removed with it) reuses."""
    for run_id in run_ids:
        run = get_pipeline_run(local.conn, run_id)
        if run.status not in ("Finished", "Failed", "Canceled"):
            raise RunnerError(f"run {run_id[:8]} is {run.status}: cancel it first "
                              f"(amlocal cancel {run_id[:8]}) or wait for it to end")
    users = run_removal.reusers(local.conn, run_ids)
    for run_id, by in users.items():
        names = ", ".join(sorted(u[:8] for u in by))
        raise RunnerError(f"run {run_id[:8]} is reused by run {names}: remove that run too, or "
                          f"keep {run_id[:8]}")


def plan_rm(local: OpenWorkspace, run_ids: list[str]) -> Removal:
    """What `amlocal rm` removes: exactly `run_ids` (checked)."""
    _checked_runs(local, run_ids)
    return Removal(runs={r: run_removal.tree_bytes(local.layout.pipeline_run_dir(r))
                         for r in run_ids})


def plan_gc(local: OpenWorkspace, before: float, images: bool = True) -> Removal:
    """What `amlocal gc` removes: the ended runs created before `before` that no kept run
    reuses, and what no kept run uses (see the module docstring)."""
    conn, layout = local.conn, local.layout
    removal = Removal()
    leaving = set(run_removal.runs_created_before(conn, before))
    while True:  # a run that a kept run reuses is kept, and so on up the chain
        users = run_removal.reusers(conn, leaving)
        if not users:
            break
        for run_id, by in users.items():
            removal.kept[run_id] = by
        leaving -= set(users)
    removal.runs = {r: run_removal.tree_bytes(layout.pipeline_run_dir(r)) for r in sorted(leaving)}
    kept_runs = set(run_removal.all_run_ids(conn)) - leaving
    facts = run_removal.step_run_facts(conn, None)
    used = {snap for run, snap, _ in facts if run in kept_runs and snap}
    text = run_removal.definitions_text(conn)
    unused = [s for s in run_removal.snapshot_ids(conn) if s not in used and s not in text]
    root = layout.snapshots_dir
    removal.snapshots = {s: run_removal.tree_bytes(root / "manifests" / f"{s}.json")
                         for s in unused}
    if unused:
        shared = sum(run_removal.tree_bytes(p) for p in run_removal.snapshot_objects(root, unused))
        removal.snapshots[unused[0]] += shared  # the objects: counted once, on the first
    selections = layout.root / SELECTIONS_DIRNAME
    if selections.is_dir():
        if active_run_ids(conn):
            removal.notes.append("dataset selections kept: a run is going on")
        else:
            removal.selections = {p: run_removal.tree_bytes(p) for p in sorted(selections.iterdir())}
    if images:
        _plan_images(removal, facts, leaving, kept_runs)
    return removal


def _plan_images(removal: Removal, facts: list, leaving: set[str], kept_runs: set[str]) -> None:
    """The `amlocal-env:*` images the removed runs used and no kept run uses."""
    def image_ids(runs: set[str]) -> set[str]:
        return {p["amlocal.image_id"] for run, _, p in facts
                if run in runs and p.get("amlocal.image_id")
                and str(p.get("amlocal.image", "")).startswith(ENV_IMAGE_PREFIX)}
    wanted = image_ids(leaving) - {p.get("amlocal.image_id") for run, _, p in facts
                                   if run in kept_runs}
    if not wanted:
        return
    from runner.executors.docker_engine import docker_client, engine_answers
    answers, detail = engine_answers()
    if not answers:
        removal.notes.append(f"environment images not looked at: no Docker engine answers ({detail})")
        return
    client = docker_client()
    for image_id in sorted(wanted):
        try:
            image = client.images.get(image_id)
        except Exception:
            continue  # removed already
        tags = [t for t in image.tags if t.startswith(ENV_IMAGE_PREFIX)]
        if tags:
            removal.images[image_id] = (tags[0], int(image.attrs.get("Size") or 0))


def apply(local: OpenWorkspace, removal: Removal) -> int:
    """Remove what `removal` lists; returns the bytes freed (an image Docker refuses to remove,
    e.g. in use by a container, is kept and said in `removal.notes`)."""
    try:
        freed = run_removal.remove_runs(local.conn, local.layout, list(removal.runs))
    except ValueError as exc:
        raise RunnerError(f"{exc}: cancel it first or wait for it to end") from None
    freed += run_removal.remove_snapshots(local.conn, local.layout.snapshots_dir,
                                          list(removal.snapshots))
    for path, size in removal.selections.items():
        shutil.rmtree(path, ignore_errors=True)
        freed += size
    if removal.images:
        from runner.executors.docker_engine import docker_client
        client = docker_client()
        for image_id, (tag, size) in removal.images.items():
            try:
                client.images.remove(tag, force=False)
                freed += size
            except Exception as exc:
                removal.notes.append(f"image {tag} kept: {str(exc).splitlines()[0][:200]}")
    return freed
