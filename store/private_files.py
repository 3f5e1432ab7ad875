"""Owner-only files of a workspace: the Key Vault's secrets and the workspace token.

A private folder is mode 0700 and a private file 0600, created so that no other user can read
them even for an instant (the file is born 0600 under a temporary name, then renamed into
place). Nothing here follows a symbolic link: a link where a private folder or file should
be is refused, so no one can redirect a secret to a place they can read.
"""
from __future__ import annotations

import fcntl
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from store.errors import StoreError

FOLDER_MODE = 0o700
FILE_MODE = 0o600


class PrivateFileError(StoreError):
    """A private folder or file is a link, not ours, or open to other users."""


def ensure_private_dir(path: Path) -> Path:
    """`path` as an existing folder of mode 0700 (created if missing); refuses a link."""
    path = Path(path)
    try:
        os.mkdir(path, FOLDER_MODE)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PrivateFileError(f"{path} must be a folder, not a link or a file; remove it")
    if info.st_uid != os.geteuid():
        raise PrivateFileError(f"{path} belongs to another user; amlocal keeps secrets only in "
                               "folders of its own")
    if stat.S_IMODE(info.st_mode) != FOLDER_MODE:
        os.chmod(path, FOLDER_MODE)
    return path


def read_private_file(path: Path) -> bytes | None:
    """The bytes of the private file `path`, or None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PrivateFileError(f"{path} cannot be read as a private file ({exc.strerror}); "
                               "it may be a link") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PrivateFileError(f"{path} is not a regular file")
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise PrivateFileError(f"{path} is readable by other users (mode "
                                   f"{stat.S_IMODE(info.st_mode):o}); run `chmod 600 {path}`")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def write_private_file(path: Path, data: bytes) -> None:
    """Replace the private file `path` with `data`, atomically, never readable by others."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@contextmanager
def private_lock(folder: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock (across processes) on `folder/name` while the block runs."""
    fd = os.open(Path(folder) / name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
