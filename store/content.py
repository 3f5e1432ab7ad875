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
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

from store.database import transaction
from store.nofollow import Entry, check_tree, open_dir, sha256_beneath, walk

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


class HashedFile(NamedTuple):
    """One file of a tree with its content hash; `remembered`: the hash came from the cache.
    (A NamedTuple: a tree of 10 000 files makes 10 000 of them on every reuse decision.)"""

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

    def tree(self, path: Path, what: str = "data",
             canceled: Callable[[], bool] | None = None) -> TreeContent:
        """The content of `path` (a file, a folder, or nothing at all), read without following
        a link: an inner link counts as its target text, a link to outside or a special file is
        an `UnsafeFileError` naming it (as `what`); `canceled()` stops it between chunks."""
        path = Path(path)
        try:
            top = os.lstat(path)
        except FileNotFoundError:
            top = None
        if top is not None and not stat.S_ISDIR(top.st_mode):
            check_tree(path, what)  # a link or a special file in place of the data: refused
            entries, cache_root, base = [Entry(path.name, "file", top)], path.parent, path.parent
        elif top is not None:
            entries, cache_root, base = walk(path, what), path, path
        else:
            entries, cache_root, base = [], path, path
        files = [(e.rel, os.path.join(cache_root, e.rel), e.stat) for e in entries if e.kind == "file"]
        links = {e.rel: e.link_target or "" for e in entries if e.kind == "link"}
        base_fd = open_dir(base) if files else -1
        try:
            def digest(full: str) -> str:
                rel = os.path.relpath(full, cache_root)
                return sha256_beneath(base_fd, rel, what, hashlib.sha256, canceled)
            hashed = {f.rel: f for f in hash_files(self.conn, cache_root, files, digest)}
        finally:
            if base_fd >= 0:
                os.close(base_fd)
        manifest = [[e.rel, hashed[e.rel].sha256, e.stat.st_size] if e.kind == "file"
                    else [e.rel, "link:" + links[e.rel], 0]
                    for e in entries if e.kind != "dir"]
        text = json.dumps(manifest, separators=(",", ":"))
        digest_hex = hashlib.sha256(text.encode()).hexdigest()
        self._save(digest_hex, text)
        return TreeContent(digest_hex, len(manifest))

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
