"""Keeping every datastore path inside its datastore.

Paths on a datastore are POSIX-style and relative. `..` segments that climb out, absolute
paths, drive letters and NUL bytes are refused with `UnsafePathError`, so no upload,
`path_on_datastore` or output name can read or write outside the datastore folder.
"""
from __future__ import annotations

import posixpath
from pathlib import Path

from store.errors import UnsafePathError


def normalize_datastore_path(path: str | None, *, what: str = "path_on_datastore") -> str:
    """`path` as a clean relative POSIX path ('' for the datastore root).

    Raises `UnsafePathError` naming `what` when the path would leave the datastore.
    """
    if path is None:
        return ""
    text = str(path).replace("\\", "/")
    if "\x00" in text:
        raise UnsafePathError(f"{what} {path!r} contains a NUL byte")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise UnsafePathError(
            f"{what} {path!r} is absolute; datastore paths are relative to the datastore root")
    clean = posixpath.normpath(text) if text not in ("", ".", "./") else ""
    if clean == ".":
        clean = ""
    if clean == ".." or clean.startswith("../"):
        raise UnsafePathError(f"{what} {path!r} leaves the datastore (it climbs out with '..')")
    return clean


def resolve_in_datastore(root: Path, path: str | None, *, what: str = "path_on_datastore") -> Path:
    """The absolute location of `path` inside the datastore folder `root`.

    Besides the textual check, symlinks inside the datastore may not lead out of it.
    """
    rel = normalize_datastore_path(path, what=what)
    root = Path(root).resolve()
    target = (root / rel).resolve() if rel else root
    if target != root and root not in target.parents:
        raise UnsafePathError(f"{what} {path!r} resolves outside the datastore (through a link)")
    return target


def check_name(name: str, *, what: str) -> str:
    """A single path segment (output or datastore name) that cannot climb or nest."""
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise UnsafePathError(f"{what} {name!r} must be a plain name without '/', '..' or '\\'")
    return name
