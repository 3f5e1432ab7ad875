"""Taking in what a step left behind (its outputs, uploads, `./outputs` and `./logs`) without
following a link it could have planted: see `store.nofollow`.

A step's outputs may hold links that point inside themselves (kept as links); a link to
anywhere else, a FIFO, a device or a socket fails the step with a message naming it, and
nothing of that output is copied.
"""
from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Iterable, Mapping

from store.artifacts import record_artifacts
from store.layout import StepRunFiles
from store.nofollow import (UnsafeFileError, check_tree, copy_tree, open_dir, open_dir_beneath,
                            walk)
from store.records import StoredOutput

KEPT_FOLDERS = ("outputs", "logs")


def check_outputs(outputs: Mapping[str, StoredOutput], uploads: Iterable[tuple[Path, Path]]) -> None:
    """Raise UnsafeFileError naming the first output (mounted, or still in the working copy
    for upload mode) that holds a link to outside it or a special file."""
    local_of = {target: local for local, target in uploads}
    for port, out in outputs.items():
        check_tree(local_of.get(out.local_path, out.local_path), f"output {port}")


def copy_uploads(uploads: Iterable[tuple[Path, Path]], datastores_dir: Path,
                 names: Mapping[Path, str]) -> None:
    """Copy each upload-mode output from the working copy to its datastore folder; no link
    already in the destination (planted by an earlier step) is followed."""
    datastores_dir = datastores_dir.resolve()
    for local, target in uploads:
        what = f"output {names.get(target, target.name)}"
        copy_tree(local, datastores_dir, target.relative_to(datastores_dir), what)


def collect_artifacts(conn: sqlite3.Connection, step_run_id: str, files: StepRunFiles) -> None:
    """Keep the step's `./outputs` and `./logs` with the files it uploaded and record them and
    its preparation log as artifacts: the rest of its private working copy is removed when the
    step ends, as Azure keeps only outputs and logs of a run's working directory."""
    root = open_dir(files.root)  # made by the runner; a step sees only what is inside it
    try:
        artifacts = open_dir_beneath(root, files.artifacts.name, "the artifacts folder", create=True)
        try:
            for folder in KEPT_FOLDERS:
                _keep(files, folder, artifacts)
            found = [(e.rel, files.artifacts / e.rel)
                     for e in walk(artifacts, "the artifacts folder") if e.kind == "file"]
        finally:
            os.close(artifacts)
    finally:
        os.close(root)
    if files.preparation.exists():
        found.insert(0, ("azureml-logs/20_image_build_log.txt", files.preparation))
    if found:
        record_artifacts(conn, step_run_id, sorted(found))


def _keep(files: StepRunFiles, folder: str, artifacts: int) -> None:
    """Move (or merge) `./<folder>` of the working copy into the artifacts folder (fd)."""
    source = files.workdir / folder
    try:
        st = os.lstat(source)
    except FileNotFoundError:
        return
    what = f"./{folder}"
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFileError(f"{what} is a link ({folder} -> {os.readlink(source)})")
    if not stat.S_ISDIR(st.st_mode):
        return
    walk(source, what)  # a link to outside or a special file: refused before anything moves
    try:
        os.lstat(folder, dir_fd=artifacts)
        merge = True
    except FileNotFoundError:
        merge = False
    if merge:  # files uploaded under the same folder: merge
        copy_tree(source, files.artifacts, folder, what, "the artifacts folder")
    else:  # moved, not copied: a model of gigabytes costs nothing here
        wd = open_dir_beneath(files.root, files.workdir.name, "the working copy")
        try:
            os.rename(folder, folder, src_dir_fd=wd, dst_dir_fd=artifacts)
        finally:
            os.close(wd)
