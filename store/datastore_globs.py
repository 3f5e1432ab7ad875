"""Glob patterns in datastore paths (`(ds, "raw/2024-*/*.csv")`): which files they match, and
a folder holding just those files for a step to read.

Matching walks the datastore folder without following links (a step may have written links
into a datastore), so a pattern can never select a file outside it. `*`, `?` and `[…]` match
within one path segment, `**` any number of segments, as in the SDK's dataset paths.
"""
from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

GLOB_CHARS = frozenset("*?[")


def split_glob(path: str) -> tuple[str, str | None]:
    """(the folder before the first segment with a wildcard, the pattern below it), or
    (path, None) when `path` has no wildcard."""
    parts = path.split("/") if path else []
    for i, part in enumerate(parts):
        if GLOB_CHARS & set(part):
            return "/".join(parts[:i]), "/".join(parts[i:])
    return path, None


def _match(parts: list[str], pattern: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _match(parts[1:], pattern[1:])


def glob_files(base: Path, pattern: str) -> list[str]:
    """Paths (relative to `base`, sorted) of the regular files below `base` that match
    `pattern`; links and special files are never matched or entered."""
    if not base.is_dir() or base.is_symlink():
        return []
    wanted = pattern.split("/")
    found = []
    for folder, dirs, files in os.walk(base, followlinks=False):
        rel_folder = Path(folder).relative_to(base).parts
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))
        for name in files:
            full = os.path.join(folder, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            if _match([*rel_folder, name], wanted):
                found.append("/".join((*rel_folder, name)))
    return sorted(found)


def materialize_selection(cache_dir: Path, base: Path, files: list[str]) -> Path:
    """A folder under `cache_dir` holding copies of `files` (relative to `base`) at the same
    relative paths; one per distinct selection and content, made once and reused."""
    digest = hashlib.sha256(str(base).encode())
    for rel in files:
        info = (base / rel).stat()
        digest.update(f"\0{rel}\0{info.st_size}\0{info.st_mtime_ns}".encode())
    target = cache_dir / digest.hexdigest()[:32]
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".selection-", dir=cache_dir))
    for rel in files:
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / rel, dest)
    try:
        os.rename(staging, target)
    except OSError:  # made meanwhile by another step
        shutil.rmtree(staging, ignore_errors=True)
    return target
