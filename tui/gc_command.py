"""`amlocal rm RUN… [--yes]` and `amlocal gc [--older-than AGE|DATE] [--yes]`: remove runs,
and what no kept run uses (snapshots, dataset selections, environment images), saying what
it frees in bytes; both ask first unless --yes."""
from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.engine.workspace_gc import Removal

from store.runs import resolve_run_id

COMMANDS = ("rm", "gc")
DEFAULT_AGE = "30d"


def add_parsers(sub: Any) -> None:
    """Register `rm` and `gc` on the command line's subparsers."""
    rm = sub.add_parser("rm", help="remove runs: their records, logs, artifacts and folders")
    rm.add_argument("run_ids", nargs="+", metavar="RUN", help="run ids (or unique prefixes)")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask")
    gc = sub.add_parser("gc", help="remove old runs, and the snapshots, selections and "
                                   "environment images no kept run uses")
    from tui.arguments import since
    gc.add_argument("--older-than", default=DEFAULT_AGE, type=since, metavar="AGE|DATE",
                    help="runs created before this (30d, 2w, 12h, 2026-11-01; default 30d)")
    gc.add_argument("--yes", "-y", action="store_true", help="do not ask")


def human(size: int) -> str:
    """Bytes as `1234567 bytes (1.2 MB)` (`512 bytes` under a kilobyte)."""
    if size < 1000:
        return f"{size} bytes"
    value = size / 1000
    for unit in ("kB", "MB", "GB", "TB"):
        if value < 1000:
            return f"{size} bytes ({value:.1f} {unit})"
        value /= 1000
    return f"{size} bytes ({value:.1f} PB)"


def describe(removal: "Removal") -> list[str]:
    """What `removal` removes, a line per kind, and what it keeps and why."""
    lines = []
    if removal.runs:
        ids = ", ".join(r[:8] for r in removal.runs)
        lines.append(f"  {len(removal.runs)} run{'s' * (len(removal.runs) != 1)}: {ids} "
                     f"({human(sum(removal.runs.values()))})")
    if removal.snapshots:
        n = len(removal.snapshots)
        lines.append(f"  {n} snapshot{'s' * (n != 1)} no kept run uses "
                     f"({human(sum(removal.snapshots.values()))})")
    if removal.selections:
        n = len(removal.selections)
        lines.append(f"  {n} dataset selection{'s' * (n != 1)} (rebuilt when a step needs one) "
                     f"({human(sum(removal.selections.values()))})")
    for tag, size in removal.images.values():
        lines.append(f"  environment image {tag} ({human(size)}, layers shared with other "
                     "images stay)")
    for run_id, by in sorted(removal.kept.items()):
        lines.append(f"  kept run {run_id[:8]}: reused by run "
                     f"{', '.join(sorted(u[:8] for u in by))}")
    lines += [f"  {note}" for note in removal.notes]
    return lines


def _confirm(question: str) -> bool:
    print(question, end=" ", flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, KeyboardInterrupt):
        return False
    if not sys.stdin.isatty():
        print()  # the answer came from a pipe: end the question's line
    return answer.strip().lower() in ("y", "yes")


def run(args: argparse.Namespace, local: Any) -> int:
    """`amlocal rm` or `amlocal gc`: list what goes, ask unless --yes, remove, say what it freed."""
    from runner.engine.workspace_gc import apply, plan_gc, plan_rm
    if args.command == "rm":
        ids = list(dict.fromkeys(resolve_run_id(local.conn, r) for r in args.run_ids))
        removal = plan_rm(local, ids)
        header = "amlocal rm: removes"
    else:
        removal = plan_gc(local, args.older_than)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(args.older_than))
        header = f"amlocal gc: runs created before {stamp}, and what no kept run uses"
    if removal.empty:
        print(f"amlocal {args.command}: nothing to remove")
        for line in describe(removal):
            print(line)
        return 0
    print(header)
    for line in describe(removal):
        print(line)
    if not args.yes and not _confirm(f"remove them, freeing {human(removal.total)}? [y/N]"):
        print("nothing removed")
        return 1
    said = len(removal.notes)
    freed = apply(local, removal)
    for note in removal.notes[said:]:  # an image Docker would not remove
        print(f"  {note}")
    print(f"freed {human(freed)}")
    return 0
