"""Content-addressed snapshots of step source directories.

A snapshot is a manifest (relative path → sha256, size, executable bit) whose own sha256 is
the snapshot id; file contents live once in `snapshots/objects/`. The top-level `.amlignore`
of the source directory decides what is left out, else its `.gitignore` (as the SDK does).
File hashes are remembered by path, size, mtime and inode, so an unchanged tree costs one
stat per file.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pathspec

from store.content import gc_paused, hash_files
from store.database import transaction
from store.errors import StoreError

ALWAYS_EXCLUDED_DIRS = frozenset({".git", ".amlocal"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a snapshot."""

    path: str
    sha256: str
    size: int
    executable: bool


@dataclass(frozen=True)
class SnapshotInfo:
    """A stored snapshot: its id and files."""

    id: str
    entries: tuple[ManifestEntry, ...]


def load_ignore_spec(source_dir: Path) -> pathspec.PathSpec | None:
    """The ignore rules of `source_dir`: `.amlignore` if present, else `.gitignore`."""
    for name in (".amlignore", ".gitignore"):
        candidate = source_dir / name
        if candidate.is_file():
            lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
            return pathspec.GitIgnoreSpec.from_lines(lines)
    return None


def list_source_files(source_dir: Path, exclude: tuple[Path, ...] = ()) -> list[tuple[str, str, os.stat_result]]:
    """(relative POSIX path, absolute path, stat) of every file a snapshot of `source_dir` keeps.

    One `scandir` per folder and one stat per file: this is the whole cost of deciding that
    an unchanged tree is unchanged.
    """
    source_dir = Path(source_dir).resolve()
    if not source_dir.is_dir():
        raise StoreError(f"source directory {source_dir} does not exist")
    spec = load_ignore_spec(source_dir)
    excluded = {str(p.resolve()) for p in exclude}
    files: list[tuple[str, str, os.stat_result]] = []

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=True):
                if entry.name in ALWAYS_EXCLUDED_DIRS or entry.path in excluded:
                    continue
                if spec is not None and spec.match_file(rel + "/"):
                    continue
                walk(entry.path, rel + "/")
            elif entry.is_file(follow_symlinks=True):
                if spec is not None and spec.match_file(rel):
                    continue
                files.append((rel, entry.path, entry.stat(follow_symlinks=True)))

    walk(str(source_dir), "")
    return files


class SnapshotStore:
    """Stores and materialises snapshots under one workspace's `snapshots/` folder."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = Path(root)
        self.conn = conn
        self.objects = self.root / "objects"
        self.manifests = self.root / "manifests"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.manifests.mkdir(parents=True, exist_ok=True)

    def _object_path(self, sha: str) -> Path:
        return self.objects / sha[:2] / sha

    def _store(self, path: str) -> str:
        """Copy file `path` into the object store; returns its sha256."""
        digest = hashlib.sha256()
        obj_dir = self.objects / "tmp"
        obj_dir.mkdir(exist_ok=True)
        with open(path, "rb") as src, tempfile.NamedTemporaryFile(dir=obj_dir, delete=False) as tmp:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                tmp.write(chunk)
        sha = digest.hexdigest()
        target = self._object_path(sha)
        if target.exists():
            os.unlink(tmp.name)
        else:
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp.name, target)
        return sha

    def take(self, source_dir: Path, exclude: tuple[Path, ...] = ()) -> SnapshotInfo:
        """Snapshot `source_dir` and return its id and manifest.

        A file whose path, size, mtime and inode are remembered is not read again. Objects of
        remembered files are checked only when the manifest is new: an existing manifest
        means its objects were stored when it was written.
        """
        with gc_paused():  # tens of thousands of short-lived objects: collecting them costs ~25 %
            return self._take(source_dir, exclude)

    def _take(self, source_dir: Path, exclude: tuple[Path, ...]) -> SnapshotInfo:
        files = hash_files(self.conn, Path(source_dir).resolve(), list_source_files(source_dir, exclude),
                           self._store)
        manifest = [[f.rel, f.sha256, f.stat.st_size, bool(f.stat.st_mode & stat.S_IXUSR)] for f in files]
        text = json.dumps(manifest, separators=(",", ":"))
        snapshot_id = hashlib.sha256(text.encode()).hexdigest()
        manifest_path = self.manifests / f"{snapshot_id}.json"
        if not manifest_path.exists():
            for f in files:
                if f.remembered and not self._object_path(f.sha256).exists():
                    self._store(f.full)
        with transaction(self.conn):
            if not manifest_path.exists():
                tmp = manifest_path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(text)
                os.replace(tmp, manifest_path)
            self.conn.execute("INSERT OR IGNORE INTO snapshot (id, file_count, total_size, "
                              "created_at) VALUES (?, ?, ?, ?)",
                              (snapshot_id, len(manifest), sum(m[2] for m in manifest), time.time()))
        return SnapshotInfo(snapshot_id, tuple(ManifestEntry(*m) for m in manifest))

    def load(self, snapshot_id: str) -> SnapshotInfo:
        """The manifest of a stored snapshot."""
        manifest_path = self.manifests / f"{snapshot_id}.json"
        if not manifest_path.exists():
            raise StoreError(f"snapshot {snapshot_id} is missing from {self.manifests}")
        entries = tuple(ManifestEntry(p, s, n, x) for p, s, n, x in json.loads(manifest_path.read_text()))
        return SnapshotInfo(snapshot_id, entries)

    def materialize(self, snapshot_id: str, dest: Path) -> None:
        """Write a private, writable copy of the snapshot's files into `dest`."""
        info = self.load(snapshot_id)
        dest.mkdir(parents=True, exist_ok=True)
        for entry in info.entries:
            target = dest / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._object_path(entry.sha256), target)
            if entry.executable:
                target.chmod(0o755)
