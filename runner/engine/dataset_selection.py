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

from runner.step_runtime.dataset_partitions import select_files
from store.datastore_paths import open_datastore_file, resolve_in_datastore
from store.layout import WorkspaceLayout

SELECTIONS_DIRNAME = "selections"


def selection_folder(layout: WorkspaceLayout, source: dict) -> Path:
    """The folder of the files `source` (a datastore input with a `filter`) selects."""
    root = layout.datastore_dir(source["datastore"])
    chosen = select_files(root, source.get("path") or "", source.get("partition_format"),
                          source.get("filter"))
    return _materialize(layout, {k: source.get(k) for k in ("datastore", "path",
                                                            "partition_format", "filter")},
                        [(resolve_in_datastore(root, rel, what="dataset file"), inside)
                         for rel, inside in chosen])


def definition_selection_folder(layout: WorkspaceLayout, definition: dict) -> Path:
    """The folder of the files a dataset definition selects (its filter, and for a
    FileDataset its take / skip / samples)."""
    from runner.engine.asset_registry import layout_dataset
    dataset = layout_dataset(layout, definition)
    files = dataset._selected_files() if definition["kind"] == "file" else dataset._listed_files()
    return _materialize(layout, {"definition": definition},
                        [(f.local_path, f.path.lstrip("/")) for f in files])


def needs_selection(definition: dict) -> bool:
    """Whether a step input of this definition gets a folder of only the files it selects."""
    return bool(definition.get("filter") is not None or
                (definition["kind"] == "file" and definition.get("transforms")))


def _materialize(layout: WorkspaceLayout, what: dict, chosen: list[tuple[Path, str]]) -> Path:
    """A folder holding copies of the `chosen` (file, path inside) pairs, named by `what` and
    each file's size and modification time, made once."""
    listing = []
    for full, inside in chosen:
        info = os.lstat(full)
        listing.append([str(full), inside, info.st_size, info.st_mtime_ns])
    key = hashlib.sha256(json.dumps({"source": what, "files": listing},
                                    sort_keys=True).encode()).hexdigest()[:32]
    folder = layout.root / SELECTIONS_DIRNAME / key
    if folder.is_dir():
        return folder
    staging = folder.with_name(f".{key}.{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    for full, inside, _size, _mtime in listing:
        src = open_datastore_file(Path(full))
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
