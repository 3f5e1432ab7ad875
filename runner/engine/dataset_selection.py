"""A filtered FileDataset as a step input: the files its filter selects, as one folder.

The step gets (read-only) a folder holding copies of exactly the selected files, at their
paths below the dataset's root. The folder is named by what it holds (the selection and each
file's size and modification time), so reuse sees a change of filter or of a selected file,
and an unchanged selection is built once: `<workspace>/selections/<hash>/`. Datastore files
may have been written by a step: links are neither listed nor followed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

from store.datastore_partitions import select_files
from store.datastore_paths import open_datastore_file, resolve_in_datastore
from store.layout import WorkspaceLayout

SELECTIONS_DIRNAME = "selections"


def selection_folder(layout: WorkspaceLayout, source: dict) -> Path:
    """The folder of the files `source` (a datastore input with a `filter`) selects."""
    root = layout.datastore_dir(source["datastore"])
    chosen = select_files(root, source.get("path") or "", source.get("partition_format"),
                          source.get("filter"))
    listing = []
    for rel, inside in chosen:
        info = os.lstat(resolve_in_datastore(root, rel, what="dataset file"))
        listing.append([rel, inside, info.st_size, info.st_mtime_ns])
    key = hashlib.sha256(json.dumps(
        {"source": {k: source.get(k) for k in ("datastore", "path", "partition_format", "filter")},
         "files": listing}, sort_keys=True).encode()).hexdigest()[:32]
    folder = layout.root / SELECTIONS_DIRNAME / key
    if folder.is_dir():
        return folder
    staging = folder.with_name(f".{key}.{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    for rel, inside, _size, _mtime in listing:
        src = open_datastore_file(resolve_in_datastore(root, rel, what="dataset file"))
        if src is None:
            continue  # replaced by a link or a FIFO since it was listed
        target = staging / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        with src, open(target, "xb") as out:
            shutil.copyfileobj(src, out)
    try:
        os.rename(staging, folder)
    except OSError:  # another runner made the same selection meanwhile: use theirs
        shutil.rmtree(staging, ignore_errors=True)
    return folder
