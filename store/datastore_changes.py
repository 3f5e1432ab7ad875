"""What changed in a datastore folder since it was last seen (datastore schedules).

A datastore schedule watches the files directly in one folder (sub-folders are not watched,
as in Azure). What it saw is remembered as name → [size, mtime_ns, sha256]; a file counts as
added or modified only when its content differs, so re-uploading the same bytes (or touching
a file) fires nothing. Links, FIFOs and devices are never opened: a step may have put them
in a datastore.
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any, Mapping

from store.datastore_paths import open_datastore_file, resolve_in_datastore
from store.layout import WorkspaceLayout

CHUNK = 1 << 20


def _sha256(path: Path) -> str | None:
    handle = open_datastore_file(path)
    if handle is None:
        return None
    digest = hashlib.sha256()
    with handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def watched_folder(layout: WorkspaceLayout, trigger: Mapping[str, Any]) -> Path:
    """The folder a datastore schedule's `trigger` watches (made when missing, so that it can
    be watched); UnsafePathError when its path leads out of the datastore."""
    root = layout.datastore_dir(trigger["datastore"])
    root.mkdir(parents=True, exist_ok=True)
    folder = resolve_in_datastore(root, trigger.get("path_on_datastore"))
    folder.mkdir(parents=True, exist_ok=True)
    return resolve_in_datastore(root, trigger.get("path_on_datastore"))


def folder_files(folder: Path, previous: Mapping[str, Any] | None = None) -> dict[str, list]:
    """The regular files directly in `folder` as name → [size, mtime_ns, sha256].

    A file whose size and mtime are those of `previous` keeps its recorded hash (it is not
    read again); a missing folder has no files; a file that vanishes while it is read is left out.
    """
    previous = previous or {}
    found: dict[str, list] = {}
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        seen = previous.get(entry.name)
        if seen is not None and seen[0] == info.st_size and seen[1] == info.st_mtime_ns:
            found[entry.name] = list(seen)
            continue
        try:
            digest = _sha256(Path(entry.path))
        except FileNotFoundError:
            continue
        if digest is not None:
            found[entry.name] = [info.st_size, info.st_mtime_ns, digest]
    return found


def changed_files(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """The names added or modified (by content) from `previous` to `current`, sorted; a file
    that was deleted is no change."""
    return sorted(name for name, seen in current.items()
                  if name not in previous or previous[name][2] != seen[2])
