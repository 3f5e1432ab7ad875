"""Mini-batch results kept between runs of an unchanged ParallelRunStep (beyond Azure).

The engine gives an `append_row` step whose entry script snapshot, environment, settings and
arguments are the same as before one folder ($AMLOCAL_PARALLEL_CACHE); each mini-batch that
succeeded leaves its rows there under a key made of its files' names and contents. A rerun
takes the rows of every mini-batch whose key it finds and processes only the others (those
that failed, and those whose files are new or changed).

A TabularDataset's mini-batch is a range of rows: its key is the digest of those rows'
columns, types and values (`MiniBatch.content`), so rows that did not change keep their
results even where new rows come before them, and changed rows are processed again.
Standard library only.
"""
from __future__ import annotations

import hashlib
import json
import os

from runner.step_runtime import contract
from runner.step_runtime.parallel_jobs import Job, MiniBatch, list_files


def _add_file(digest: "hashlib._Hash", path: str, name: str) -> None:
    digest.update(name.encode() + b"\0")
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(b"\0")


def side_inputs_digest(paths: list[str]) -> str:
    """sha256 of every file of the side inputs (a changed model re-processes everything)."""
    digest = hashlib.sha256()
    for root in paths:
        digest.update(b"side\0")
        for path in list_files(root):
            _add_file(digest, path, os.path.relpath(path, root))
    return digest.hexdigest()


def batch_key(batch: MiniBatch, root: str, context: str = "") -> str | None:
    """sha256 of `context` (the side inputs' digest), the input's name, its partition (with
    partition_keys) and each file's path (below the input) and content, or for a table's
    mini-batch the digest of its rows (None when it has none: it is not kept)."""
    digest = hashlib.sha256(context.encode() + b"\0" + batch.dataset.encode() + b"\0")
    if batch.partition is not None:
        digest.update(json.dumps(batch.partition, sort_keys=True, default=str).encode() + b"\0")
    if batch.rows is not None:
        if batch.content is None:
            return None
        digest.update(b"rows\0" + batch.content.encode())
    for path in batch.files:
        _add_file(digest, path, os.path.relpath(path, root))
    return digest.hexdigest()


class MiniBatchCache:
    """The folder of one step definition's mini-batch results."""

    def __init__(self, folder: str, side_inputs: list[str]) -> None:
        self.folder = folder
        self.context = side_inputs_digest(side_inputs)
        self.keys: dict[int, str] = {}
        self.reused: set[int] = set()

    @staticmethod
    def from_environment() -> "MiniBatchCache | None":
        """The cache the engine gave this step, or None (reuse off, or not append_row)."""
        folder = os.environ.get(contract.PARALLEL_CACHE)
        if not folder or not os.path.isdir(folder):
            return None
        side = [p for p in os.environ.get(contract.PARALLEL_SIDE_INPUTS, "").split(os.pathsep) if p]
        return MiniBatchCache(folder, side)

    def restore(self, job: Job, roots: dict[str, str]) -> int:
        """Mark every mini-batch found in the cache done with its rows; how many were."""
        for batch in job.batches:
            key = batch_key(batch, roots[batch.dataset], self.context)
            if key is None:
                continue
            self.keys[batch.index] = key
            path = os.path.join(self.folder, key + ".json")
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            try:
                with open(path) as fh:
                    saved = json.load(fh)
                rows, items = saved["rows"], saved["items"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if not isinstance(rows, list) or not isinstance(items, int):
                continue
            job.reuse(batch.index, [str(r) for r in rows], items)
            self.reused.add(batch.index)
        return len(self.reused)

    def store(self, job: Job) -> None:
        """Keep the rows of each mini-batch this run processed successfully."""
        for index in job.done - self.reused:
            key = self.keys.get(index)
            if key is None:
                continue
            path = os.path.join(self.folder, key + ".json")
            partial = f"{path}.{os.getpid()}.tmp"
            with open(partial, "w") as fh:
                json.dump({"rows": job.rows[index], "items": job.items[index]}, fh)
            os.replace(partial, path)
