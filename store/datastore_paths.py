"""Keeping every datastore path inside its datastore.

Paths on a datastore are POSIX-style and relative to the datastore root. As in the SDK, a
leading `/` or `./` (any run of them, e.g. `/./`, `//`) means the root: `/dataset/raw` is
`dataset/raw`. `..` segments that climb out, drive letters and NUL bytes are refused with
`UnsafePathError`, so no upload, `path_on_datastore` or output name can read or write
outside the datastore folder. Messages show the path as the caller wrote it.
"""
from __future__ import annotations

import os
import posixpath
import re
import stat
from pathlib import Path
from typing import BinaryIO

from store.errors import UnsafePathError

# What the SDK strips from the front of a datastore path: runs of "/" and "./".
_ROOT_PREFIX = re.compile(r"^(?:\.?/)+")


def normalize_datastore_path(path: str | None, *, what: str = "path_on_datastore") -> str:
    """`path` as a clean relative POSIX path ('' for the datastore root).

    Raises `UnsafePathError` naming `what` when the path would leave the datastore.
    """
    if path is None:
        return ""
    text = str(path).replace("\\", "/")
    if "\x00" in text:
        raise UnsafePathError(f"{what} {path!r} contains a NUL byte")
    if len(text) > 1 and text[1] == ":":
        raise UnsafePathError(
            f"{what} {path!r} names a drive; datastore paths are relative to the datastore root")
    text = _ROOT_PREFIX.sub("", text)
    clean = posixpath.normpath(text) if text not in ("", ".") else ""
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


def open_datastore_file(path: Path) -> BinaryIO | None:
    """`path` opened for reading if it is a regular file; None for a link, FIFO or device.

    A step may have put any of those in a datastore; opening never follows a link and never
    blocks on a FIFO.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")
