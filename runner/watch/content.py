"""Which reported changes really changed something: the watcher's memory of file contents.

A save is often not a change: an editor's or `sed -i`'s temporary file that is gone by the time
the change is seen, or a pipeline script that uploads its data again, byte for byte, each time
it is evaluated. So a watched file counts as changed only when its content differs from what
was seen before (data files and the script are hashed when watching starts and after each
evaluation of the script); a file that does not exist and was never seen is a temporary file.
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Iterable

_GONE = None
_UNHASHED = "exists"  # a source file seen when watching began, not hashed (there may be many)


def content_hash(path: Path) -> str | None:
    """sha256 of the regular file `path` (not followed if a link); None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return _GONE
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return _GONE
        digest = hashlib.sha256()
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_below(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__", ".amlocal")]
        for name in files:
            yield Path(folder) / name


class ContentMemory:
    """What each watched file held when last seen."""

    def __init__(self) -> None:
        self._seen: dict[Path, str | None] = {}

    def remember(self, roots: Iterable[Path], hashed: bool) -> None:
        """Note every file below `roots` as it is now (`hashed`: by content, else as present)."""
        for root in roots:
            for path in _files_below(root):
                self._seen[path.resolve()] = content_hash(path) if hashed else _UNHASHED

    def changed(self, path: Path) -> bool:
        """Whether `path` changed since it was last seen (and remember it as it is now)."""
        path = path.resolve()
        now = content_hash(path)
        if path not in self._seen:
            self._seen[path] = now
            return now is not _GONE  # a new file; a temporary file already gone is nothing
        before, self._seen[path] = self._seen[path], now
        if before == _UNHASHED:
            return True  # saved: whether its bytes differ, only the snapshot will tell
        return before != now
