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
from typing import Callable, Iterable, Iterator

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


@dataclass(frozen=True)
class HashedFile:
    """One file of a tree with its content hash; `remembered`: the hash came from the cache."""

    rel: str
    full: str
    stat: os.stat_result
    sha256: str
    remembered: bool


def hash_files(conn: sqlite3.Connection, cache_root: Path,
               files: Iterable[tuple[str, str, os.stat_result]],
               digest: Callable[[str], str]) -> list[HashedFile]:
    """The sha256 of every (relative path, absolute path, stat) in `files`, from the stat cache
    where path, size, mtime and inode are unchanged, else from `digest(absolute path)` (which
    may also store the file, as snapshots do); new hashes are remembered. The one routine
    behind both snapshots and data content."""
    cache = cached_hashes(conn, Path(cache_root))
    updates: list[tuple] = []
    hashed: list[HashedFile] = []
    for rel, full, st in files:
        cached = cache.get(full)
        if cached and cached[0] == st.st_size and cached[1] == st.st_mtime_ns and cached[2] == st.st_ino:
            hashed.append(HashedFile(rel, full, st, cached[3], True))
        else:
            sha = digest(full)
            updates.append((full, st.st_size, st.st_mtime_ns, st.st_ino, sha))
            hashed.append(HashedFile(rel, full, st, sha, False))
    remember_hashes(conn, updates)
    return hashed


def sha256_file(path: Path | str) -> str:
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
            names = [(path.name, path)]
            cache_root = path.parent
        else:
            names = []
            for folder, dirs, found in os.walk(path):
                dirs.sort()
                names += [(Path(folder, n).relative_to(path).as_posix(), Path(folder, n))
                          for n in sorted(found)]
            cache_root = path
        files: list[tuple[str, str, os.stat_result]] = []
        for rel, full in names:
            try:
                files.append((rel, str(full), full.stat()))
            except FileNotFoundError:
                continue  # removed while we looked: it is not part of the content
        manifest = [[f.rel, f.sha256, f.stat.st_size]
                    for f in hash_files(self.conn, cache_root, files, sha256_file)]
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
