"""Which files a FileDataset holds: its datastore paths (files, folders or globs), narrowed by
its filter on `partition_format` columns; and `FileDataset.mount()`, which makes them local.

Listing never follows a link (a step may have written it into a datastore).
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.step_runtime.exceptions import UserErrorException
from store.datastore_partitions import select_files
from store.datastore_paths import open_datastore_file


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset: where it is, and its path below the dataset's root."""

    datastore: Any
    path_on_datastore: str
    relative_path: str

    @property
    def local_path(self) -> Path:
        """The file in the datastore's folder."""
        return self.datastore._local_path(self.path_on_datastore)


def dataset_files(paths: list[tuple[Any, str]], partition_format: str | None,
                  expression: dict | None) -> list[DatasetFile]:
    """The files of a dataset over `paths`, keeping those `expression` lets through."""
    return [DatasetFile(datastore, rel, inside) for datastore, path in paths
            for rel, inside in select_files(datastore._local_path(""), path, partition_format,
                                            expression)]


class MountContext:
    """`FileDataset.mount()`: the dataset's files under `mount_point` between `start` and `stop`.

    Locally a mount is a read-only copy (no FUSE); `stop` removes it, as unmounting does.
    """

    def __init__(self, files: list[DatasetFile], mount_point: str | None) -> None:
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
            src = open_datastore_file(item.local_path)
            if src is None:
                continue  # no longer a regular file (a step replaced it with a link)
            target = point / item.relative_path
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
                (point / item.relative_path).unlink()
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
