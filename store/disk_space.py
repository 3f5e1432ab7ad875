"""Running out of disk space: recognising it, saying it in words, and a reserve of space that
lets a runner record why its run failed when the disk is full.

SQLite reports a full disk as "database or disk is full" (SQLITE_FULL), the OS as ENOSPC or
EDQUOT; both become one message, "no space left on device (…)", naming what was being done
and how much space is left. The reserve is a file of `RESERVE_BYTES` in the workspace folder:
a runner that finds the disk full removes it, so the few pages that record the failure fit,
and a later runner makes it again once there is room.
"""
from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

NO_SPACE = "no space left on device"
RESERVE_BYTES = 2**20  # a few dozen database pages: what recording a failure writes
RESERVE_NAME = "space-reserve"
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) says the disk or the database is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if isinstance(current, sqlite3.Error) and (
                getattr(current, "sqlite_errorcode", None) == 13 or "disk is full" in str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def human_size(size: float) -> str:
    """`size` bytes in words: `512 B`, `4.0 KiB`, `1.5 GiB`."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def no_space_message(path: Path | None, doing: str) -> str:
    """`no space left on device (<doing>; <free> free on the disk of <path>)`."""
    if path is None:
        return f"{NO_SPACE} ({doing})"
    try:
        free = f"{human_size(shutil.disk_usage(path).free)} free on the disk of {path}"
    except OSError:
        free = f"on the disk of {path}"
    return f"{NO_SPACE} ({doing}; {free})"


class SpaceReserve:
    """A file of `RESERVE_BYTES` in `folder` that is given up when the disk is full."""

    def __init__(self, folder: Path, size: int = RESERVE_BYTES) -> None:
        self.path = folder / RESERVE_NAME
        self.size = size

    def keep(self) -> bool:
        """Make the reserve if it is not there and there is room; True when it is there."""
        try:
            if os.lstat(self.path).st_size == self.size:
                return True
        except FileNotFoundError:
            pass
        except OSError:
            return False
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.size)  # real blocks, unlike a sparse file
            finally:
                os.close(fd)
            return True
        except OSError:
            self.release()  # no room for it now: a later runner tries again
            return False

    def release(self) -> bool:
        """Give the reserved space back to the disk; True when there was a reserve."""
        try:
            os.unlink(self.path)
            return True
        except FileNotFoundError:
            return False
