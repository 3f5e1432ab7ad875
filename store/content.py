"""Content hashes of data: datastore folders that steps read, and the outputs they write.

A tree's hash is the sha256 of its manifest (relative path, sha256, size of every file), so
it changes exactly when a file's bytes, name or presence change. File hashes are remembered
by path, size, mtime and inode (`file_hash` table, shared with snapshots): an unchanged tree
costs one stat per file. Manifests are kept under `manifests/` so that a later run can say
which files changed.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from store.database import transaction

_CHUNK = 1 << 20


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a loop that makes many acyclic objects."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cached_hashes(conn: sqlite3.Connection, root: Path) -> dict[str, tuple[int, int, int, str]]:
    """Remembered (size, mtime_ns, inode, sha256) of the files under `root`, by path."""
    base = str(Path(root)) + "/"
    return {row[0]: tuple(row[1:]) for row in conn.execute(
        "SELECT path, size, mtime_ns, inode, sha256 FROM file_hash WHERE path >= ? AND path < ?",
        (base, base[:-1] + "0"))}


def remember_hashes(conn: sqlite3.Connection, updates: list[tuple]) -> None:
    """Store (path, size, mtime_ns, inode, sha256) rows; callers batch them."""
    if updates:
        with transaction(conn):
            conn.executemany("INSERT OR REPLACE INTO file_hash (path, size, mtime_ns, inode, sha256) "
                             "VALUES (?, ?, ?, ?, ?)", updates)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class TreeContent:
    """The content of a file or folder: its hash and how many files it holds."""

    hash: str
    files: int


class ContentIndex:
    """Hashes trees with the stat cache, and keeps their manifests for later comparison."""

    def __init__(self, conn: sqlite3.Connection, manifests_dir: Path) -> None:
        self.conn = conn
        self.manifests_dir = Path(manifests_dir)

    def tree(self, path: Path) -> TreeContent:
        """The content of `path` (a file, a folder, or nothing at all)."""
        path = Path(path)
        if path.is_file():
            files = [(path.name, path)]
            cache_root = path.parent
        else:
            files = []
            for folder, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    full = Path(folder, name)
                    files.append((full.relative_to(path).as_posix(), full))
            cache_root = path
        cache = cached_hashes(self.conn, cache_root)
        updates: list[tuple] = []
        manifest = []
        for rel, full in files:
            try:
                st = full.stat()
            except FileNotFoundError:
                continue  # removed while we looked: it is not part of the content
            cached = cache.get(str(full))
            if cached and cached[:3] == (st.st_size, st.st_mtime_ns, st.st_ino):
                sha = cached[3]
            else:
                sha = sha256_file(full)
                updates.append((str(full), st.st_size, st.st_mtime_ns, st.st_ino, sha))
            manifest.append([rel, sha, st.st_size])
        remember_hashes(self.conn, updates)
        text = json.dumps(manifest, separators=(",", ":"))
        digest = hashlib.sha256(text.encode()).hexdigest()
        self._save(digest, text)
        return TreeContent(digest, len(manifest))

    def _save(self, digest: str, text: str) -> None:
        target = self.manifests_dir / f"{digest}.json"
        if target.exists():
            return
        self.manifests_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}.{id(text)}")
        tmp.write_text(text)
        os.replace(tmp, target)

    def manifest(self, digest: str) -> dict[str, str] | None:
        """relative path → sha256 of a tree hashed before (None if its manifest is gone)."""
        try:
            return {rel: sha for rel, sha, _ in json.loads((self.manifests_dir / f"{digest}.json").read_text())}
        except (OSError, ValueError):
            return None


def changed_files(old: dict[str, str] | None, new: dict[str, str] | None) -> list[str]:
    """Paths added, removed or modified between two manifests (sorted)."""
    if old is None or new is None:
        return []
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
