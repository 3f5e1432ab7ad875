"""`FileDataset.mount()`: the dataset's files made local, as a context manager.

Locally a mount is a read-only copy (no FUSE). Files are opened without following links
(a step may have written the datastore), standard library only.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from runner.step_runtime.exceptions import UserErrorException


def open_regular_file(path: Path) -> BinaryIO | None:
    """`path` opened for reading if it is a regular file; None for a link, FIFO or device
    (never followed, never blocked on)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


class MountContext:
    """`FileDataset.mount()`: the dataset's files under `mount_point` between `start` and `stop`.

    Locally a mount is a read-only copy (no FUSE); `stop` removes it, as unmounting does.
    """

    def __init__(self, files: list[Any], mount_point: str | None) -> None:
        self._files = files
        self._requested = mount_point
        self._mount_point: Path | None = None
        self._made_folder = False

    @property
    def mount_point(self) -> str:
        """Where the files are (a new temporary folder unless one was given)."""
        if self._mount_point is None:
            self._mount_point = self._choose()
        return str(self._mount_point)

    def _choose(self) -> Path:
        if self._requested is None:
            return Path(tempfile.mkdtemp(prefix="amlocal-mount-"))
        return Path(self._requested).absolute()

    def start(self) -> None:
        """Mount: put the files under the mount point (which must be empty or not exist)."""
        point = Path(self.mount_point)
        if point.exists() and any(point.iterdir()):
            raise UserErrorException("Dataset mount point must be empty, mounting dataset to "
                                     "non-empty folder is not supported.")
        self._made_folder = self._requested is None or not point.exists()
        point.mkdir(parents=True, exist_ok=True)
        for item in self._files:
            src = open_regular_file(item.local_path)
            if src is None:
                continue  # no longer a regular file (a step replaced it with a link)
            target = point / item.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            with src, open(target, "xb") as out:
                shutil.copyfileobj(src, out)
            os.chmod(target, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    def stop(self) -> None:
        """Unmount: remove the files (and the mount point if the mount made it)."""
        if self._mount_point is None:
            return
        point = self._mount_point
        for item in self._files:
            try:
                (point / item.path.lstrip("/")).unlink()
            except FileNotFoundError:
                pass
        for folder, dirs, _files in os.walk(point, topdown=False):
            for name in dirs:
                try:
                    os.rmdir(Path(folder) / name)
                except OSError:
                    pass  # something else was put there: leave it
        if self._made_folder:
            try:
                point.rmdir()
            except OSError:
                pass

    def __enter__(self) -> "MountContext":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
