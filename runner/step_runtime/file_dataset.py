"""FileDataset: files on datastore paths (files, folders or globs), narrowed by a filter on
its partition columns or file metadata, and by take / skip / samples of the file list.

The same class serves a script (the host SDK subclasses it to add step inputs) and a step,
where `run.input_datasets['x']` and `Dataset.get_by_name(run.experiment.workspace, …)` give
one. Standard library only.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from runner.step_runtime.dataset_core import (AbstractDataset, SelectedFile, check_count,
                                              check_probability, file_draw)
from runner.step_runtime.dataset_mount import MountContext, open_regular_file
from runner.step_runtime.dataset_partitions import METADATA_COLUMNS, PATH_COLUMN
from runner.step_runtime.exceptions import UserErrorException


def apply_file_transforms(files: list[SelectedFile], transforms: list[dict]) -> list[SelectedFile]:
    """`files` after take, skip, take_sample and random_split, in order."""
    for t in transforms:
        op = t["op"]
        if op == "take":
            files = files[:t["count"]]
        elif op == "skip":
            files = files[t["count"]:]
        elif op == "take_sample":
            files = [f for f in files if file_draw(t.get("seed"), f.path) < t["probability"]]
        elif op == "random_split":
            left = [file_draw(t.get("seed"), f.path) < t["percentage"] for f in files]
            files = [f for f, keep in zip(files, left) if keep == (t["side"] == 0)]
        else:
            raise UserErrorException(f"unknown file dataset transformation {op!r}")
    return files


class FileDataset(AbstractDataset):
    """Files on one or more datastore paths (`azureml.data.FileDataset`)."""

    _KIND = "file"

    def _selected_files(self) -> list[SelectedFile]:
        return apply_file_transforms(self._listed_files(), self._definition.get("transforms", []))

    # ----------------------------------------------------------------- columns and filters
    def __getitem__(self, column: str) -> Any:
        """A column (from `partition_format`, or `Path`) to build a `filter` condition with."""
        from runner.step_runtime.dataset_filter import ColumnExpression
        columns = (*self.partition_keys, PATH_COLUMN)
        if column not in columns:
            raise KeyError(f"{column!r}: the dataset's columns are {', '.join(columns)} "
                           "(partition_format in from_files makes the others)")
        return ColumnExpression(column)

    def file_metadata(self, col: str) -> Any:
        """A file's metadata (Size, LastModifiedTime, CreationTime, Extension, CanSeek) as a
        column to filter on: `ds.filter(ds.file_metadata('Size') > 1000)`."""
        from runner.step_runtime.dataset_filter import ColumnExpression
        if col not in METADATA_COLUMNS:
            raise UserErrorException(f"file_metadata: {col!r} is not file metadata; use one of "
                                     f"{', '.join(METADATA_COLUMNS)}")
        return ColumnExpression(col)

    def filter(self, expression: Any) -> "FileDataset":
        """A new, unregistered dataset with only the files `expression` lets through."""
        from runner.step_runtime.dataset_filter import FilterExpression
        if not isinstance(expression, FilterExpression):
            raise UserErrorException("filter takes a condition such as ds['country'] == 'BE', "
                                     f"not {expression!r}")
        if self._definition.get("transforms"):
            raise UserErrorException("filter a FileDataset before take, skip or sampling it")
        spec = expression.to_json()
        current = self._definition.get("filter")
        if current is not None:
            spec = {"op": "and", "args": [current, spec]}
        return self._derive(filter=spec)

    # ----------------------------------------------------------------- subsets
    def take(self, count: int) -> "FileDataset":
        """The first `count` files."""
        return self._derive({"op": "take", "count": check_count(count, "count")})

    def skip(self, count: int) -> "FileDataset":
        """All but the first `count` files."""
        return self._derive({"op": "skip", "count": check_count(count, "count")})

    def take_sample(self, probability: float, seed: int | None = None) -> "FileDataset":
        """Each file kept with `probability` (the same files for the same seed)."""
        return self._derive({"op": "take_sample", "seed": seed,
                             "probability": check_probability(probability, "probability")})

    def random_split(self, percentage: float, seed: int | None = None
                     ) -> tuple["FileDataset", "FileDataset"]:
        """Two datasets: about `percentage` of the files, and the rest (never overlapping)."""
        p = check_probability(percentage, "percentage")
        if seed is None:
            import random
            seed = random.randrange(2 ** 31)
        return (self._derive({"op": "random_split", "percentage": p, "seed": seed, "side": 0}),
                self._derive({"op": "random_split", "percentage": p, "seed": seed, "side": 1}))

    # ----------------------------------------------------------------- files
    def to_path(self) -> list[str]:
        """The dataset's files, as paths below the dataset's root (with a leading '/')."""
        return [f.path for f in self._selected_files()]

    def download(self, target_path: str | None = None, overwrite: bool = False,
                 ignore_not_found: bool = False) -> list[str]:
        """Copy the dataset's files into `target_path` (a new temporary folder when None);
        returns the local paths."""
        if not ignore_not_found:
            self._check_has_files("download")
        target = Path(target_path or tempfile.mkdtemp())
        out = []
        for item in self._selected_files():
            dest = target / item.path.lstrip("/")
            if dest.exists() and not overwrite:
                raise UserErrorException(f"{dest} exists; pass overwrite=True")
            src = open_regular_file(item.local_path)
            if src is None:
                continue  # not a regular file (a link or FIFO a step left there)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with src, open(dest, "wb") as copy:
                shutil.copyfileobj(src, copy)
            out.append(str(dest))
        return out

    def mount(self, mount_point: str | None = None, **kwargs: Any) -> MountContext:
        """A context that puts the dataset's files under `mount_point` (a temporary folder
        when None) from `start()` or `with` until `stop()`."""
        return MountContext(self._selected_files(), mount_point)

    def as_named_input(self, name: str) -> Any:
        """Step inputs are declared in the pipeline script, not inside a step."""
        raise UserErrorException("as_named_input declares a step input: call it in the "
                                 "pipeline script, not inside a step")
