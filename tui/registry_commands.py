"""`amlocal datasets`, `amlocal models` and `amlocal environments`: the workspace registries.

    amlocal models                 # every registered name: versions, description, tags, made by, used by
    amlocal models NAME            # every version of NAME in detail, with its lineage
    amlocal models NAME -v 2       # one version

Reads only: without a workspace they say so and create nothing. "Made by" is the step run
that registered a version (`<run id prefix>/<step name>`), or "script" for a registration
made outside a pipeline step; "used by" counts the step runs that read it.
"""
from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Iterable

from store import registry
from store.errors import NotFoundError
from store.records import AssetRecord
from store.runs import find_pipeline_run, find_step_run
from tui.formatting import short_value, shown, table, when

COMMANDS = {"datasets": "dataset", "models": "model", "environments": "environment"}
_HOW_TO_REGISTER = {
    "dataset": "`dataset.register(ws, name)` in a script or step",
    "model": "`Model.register(ws, path, name)` or `run.register_model(name, path)` in a step",
    "environment": "`env.register(ws)` in a script",
}
LABEL_WIDTH = 12


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `datasets`, `models` and `environments` to the `amlocal` parser."""
    for command, kind in COMMANDS.items():
        parser = sub.add_parser(command, help=f"registered {command}: every name, or one name's "
                                              "versions with their lineage")
        parser.add_argument("name", nargs="?", help=f"a registered {kind}'s name: its versions "
                                                    "in detail")
        parser.add_argument("-v", "--version", type=int, help="with NAME: only this version")


def run(args: argparse.Namespace) -> int:
    """Run a registry command; returns the exit status."""
    from store.layout import require_workspace
    from store.workspace import open_workspace
    kind = COMMANDS[args.command]
    if args.version is not None and args.name is None:
        raise NotFoundError(f"--version needs a name: `amlocal {args.command} NAME "
                            f"--version {args.version}`")
    with open_workspace(require_workspace()) as local:
        conn = local.conn
        if args.name is None:
            print(list_text(conn, kind))
        else:
            print(detail_text(conn, kind, args.name, args.version))
    return 0


def made_by(conn: sqlite3.Connection, record: AssetRecord, full: bool = False) -> str:
    """Who registered `record`: `<run>/<step>` (the run id's first 8 characters unless `full`),
    the pipeline run alone, or "script"."""
    run_id = record.made_by_pipeline_run_id
    step = find_step_run(conn, record.made_by_step_run_id) if record.made_by_step_run_id else None
    if step is not None:
        run_id = run_id or step.pipeline_run_id
    if run_id is None:
        return f"step run {record.made_by_step_run_id}" if record.made_by_step_run_id else "script"
    shown_id = run_id if full else run_id[:8]
    return f"{shown_id}/{step.name}" if step is not None else shown_id


def tags_text(tags: dict) -> str:
    """`k=v, k2=v2` in key order, "-" when there are none."""
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "-"


def _by_name(records: Iterable[AssetRecord]) -> dict[str, list[AssetRecord]]:
    grouped: dict[str, list[AssetRecord]] = {}
    for record in records:  # by name, then newest first (`list_versions`' order)
        grouped.setdefault(record.name, []).append(record)
    return grouped


def _readers(conn: sqlite3.Connection, records: Iterable[AssetRecord]) -> set[str]:
    return {use.step_run_id for r in records for use in registry.uses_of(conn, r.id)}


def list_text(conn: sqlite3.Connection, kind: str) -> str:
    """The table of every registered `kind` name (its latest version's description, tags and
    maker; the step runs that read any version)."""
    grouped = _by_name(registry.list_versions(conn, kind))
    if not grouped:
        return f"no {kind}s registered: register one with {_HOW_TO_REGISTER[kind]}"
    rows = []
    for name, versions in grouped.items():
        latest = versions[0]
        rows.append([name, ", ".join(str(r.version) for r in versions),
                     short_value(latest.description or "-"), short_value(tags_text(latest.tags)),
                     made_by(conn, latest), str(len(_readers(conn, versions)))])
    return table(["NAME", "VERSIONS", "DESCRIPTION", "TAGS", "MADE BY", "USED BY"], rows)


def _line(label: str, value: str) -> str:
    return f"  {label.ljust(LABEL_WIDTH)} {shown(value)}"


def asset_ref(record: AssetRecord) -> str:
    """`dataset customers:2`: an asset version as Azure names it, with its kind."""
    return f"{record.kind} {record.name}:{record.version}"


def lineage(conn: sqlite3.Connection, record: AssetRecord) -> list[tuple[str, str]]:
    """(label, text) lines of `record`'s lineage: what the run that made it read, and the step
    runs that read it."""
    lines: list[tuple[str, str]] = []
    if record.made_by_pipeline_run_id:
        read = [r for r in registry.used_by_pipeline_run(conn, record.made_by_pipeline_run_id)
                if r.id != record.id]
        lines.append(("Made from", ", ".join(asset_ref(r) for r in read) or
                      "nothing registered (its run read no registered dataset or model)"))
    uses = registry.uses_of(conn, record.id)
    if uses:
        readers = []
        for use in uses:
            step = find_step_run(conn, use.step_run_id)
            readers.append(f"{use.pipeline_run_id}/{step.name if step else use.step_run_id}")
        lines.append(("Used by", f"{len(uses)} step run{'s' if len(uses) != 1 else ''}: "
                                 + ", ".join(readers)))
    else:
        lines.append(("Used by", "no step run yet"))
    return lines


def _environment_lines(record: AssetRecord) -> list[tuple[str, str]]:
    spec = record.definition.get("spec") or {}
    image = spec.get("base_image") or ("a Dockerfile" if spec.get("base_dockerfile")
                                       else "the workspace's base image")
    packages = [*(spec.get("conda_packages") or []), *(spec.get("pip_packages") or [])]
    return [("Image", image), ("Python", str(spec.get("python_version") or "-")),
            ("Packages", ", ".join(packages) if packages else "-")]


def version_text(conn: sqlite3.Connection, record: AssetRecord) -> str:
    """One version in detail: description, tags, properties, maker, lineage."""
    lines = [f"Version {record.version}  registered {when(record.created_at)}  id {record.id}"]
    lines.append(_line("Description", record.description or "-"))
    lines.append(_line("Tags", tags_text(record.tags)))
    if record.properties:
        lines.append(_line("Properties", tags_text(record.properties)))
    maker = made_by(conn, record, full=True)
    run = (find_pipeline_run(conn, record.made_by_pipeline_run_id)
           if record.made_by_pipeline_run_id else None)
    if run is not None:
        maker += f" (experiment {run.experiment_name})"
    lines.append(_line("Made by", maker))
    if record.kind == "environment":
        lines += [_line(label, text) for label, text in _environment_lines(record)]
    if record.content:
        files = sorted(record.content)
        lines.append(_line("Files", f"{len(files)}: " + short_value(", ".join(files), 60)))
    lines += [_line(label, text) for label, text in lineage(conn, record)]
    return "\n".join(lines)


def detail_text(conn: sqlite3.Connection, kind: str, name: str, version: int | None = None) -> str:
    """Every version of `name` (only `version`, when given), newest first."""
    versions = registry.list_versions(conn, kind, name)
    if not versions:
        command = next(c for c, k in COMMANDS.items() if k == kind)
        raise NotFoundError(f"no {kind} named {name!r} is registered in this workspace (see "
                            f"`amlocal {command}`)")
    if version is not None:
        versions = [registry.get_version(conn, kind, name, version)]
    count = len(registry.list_versions(conn, kind, name))
    head = f"{kind} {shown(name)}: {count} version{'s' if count != 1 else ''}"
    return "\n\n".join([head, *(version_text(conn, r) for r in versions)])
