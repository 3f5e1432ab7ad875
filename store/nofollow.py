"""Reading, copying, moving and hashing what a step could have written, never following a link.

A step is untrusted: anything in a place it may write (its outputs, `./outputs`, `./logs`,
its run folder, the datastore folders it writes) may be a link planted to make the host read
or write elsewhere, or a FIFO or device planted to hang it. Everything here works from a
trusted folder down, one path component at a time, with directory file descriptors and
`O_NOFOLLOW`, so a link is seen as a link wherever it is: a link that points inside the tree
it sits in is kept as a link, one that points anywhere else is an `UnsafeFileError` naming
it; FIFOs, devices and sockets are refused by name; a regular file is opened `O_NONBLOCK`
and checked with `fstat` before a byte is read, so nothing here can hang.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from store.errors import StoreError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20


class UnsafeFileError(StoreError):
    """A place a step could write holds a link to outside it, or a special file."""


class Canceled(StoreError):
    """A long read (hashing an output) was asked to stop."""


@dataclass(frozen=True)
class Entry:
    """One thing in a tree: `kind` is "file", "dir" or "link" (a link pointing inside it)."""

    rel: str
    kind: str
    stat: os.stat_result
    link_target: str | None = None


def special_kind(mode: int) -> str | None:
    """"a FIFO", "a device", "a socket" for a special file's mode, else None."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None


def link_stays_inside(rel: str, target: str) -> bool:
    """Whether a link at `rel` (relative to a tree's root) to `target` resolves inside the tree."""
    if os.path.isabs(target):
        return False
    resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
    return resolved != ".." and not resolved.startswith("../")


def _parts(rel: str | os.PathLike) -> list[str]:
    """The components of a relative path; '..' or an absolute path is an UnsafeFileError."""
    text = os.fspath(rel)
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts:
        raise UnsafeFileError(f"{text} is outside the folder it must stay in")
    return [p for p in path.parts if p not in ("", ".")]


def open_dir(path: Path | str) -> int:
    """A directory fd of a trusted folder (its own path may contain links the user made)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def open_dir_beneath(base: Path | str | int, rel: str | os.PathLike, what: str,
                     create: bool = False) -> int:
    """The fd of folder `rel` below the trusted folder `base` (a path, or an fd that stays
    open), no component of `rel` followed if it is a link; `create` makes missing folders."""
    fd = open_dir(base) if not isinstance(base, int) else os.dup(base)
    try:
        for name in _parts(rel):
            if create:
                try:
                    os.mkdir(name, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                _refuse_link(fd, name, what, rel, exc)
                raise
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _refuse_link(dir_fd: int, name: str, what: str, rel: object, exc: OSError) -> None:
    """Raise UnsafeFileError if `name` (in `dir_fd`) is a link or special file, else return."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(name, dir_fd=dir_fd)
        raise UnsafeFileError(f"{what} contains a link to outside it ({rel} -> {target})") from exc
    kind = special_kind(st.st_mode)
    if kind:
        raise UnsafeFileError(f"{what} contains {kind} ({rel})") from exc


def open_file_beneath(base: Path | str | int, rel: str | os.PathLike, what: str) -> int:
    """A read fd of the regular file `rel` below trusted `base`, no component followed."""
    parts = _parts(rel)
    if not parts:
        raise UnsafeFileError(f"{what}: no file named")
    parent = open_dir_beneath(base, "/".join(parts[:-1]), what)
    try:
        return _open_regular(parent, parts[-1], what, os.fspath(rel))
    finally:
        os.close(parent)


def _open_regular(dir_fd: int, name: str, what: str, rel: str) -> int:
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        _refuse_link(dir_fd, name, what, rel, exc)
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFileError(f"{what} contains {special_kind(st.st_mode) or 'a folder'} ({rel})")
    os.set_blocking(fd, True)
    return fd


def open_file(path: Path | str, what: str) -> int:
    """A read fd of regular file `path` whose last component is not followed (its folders are
    the runner's own, which a step cannot replace)."""
    path = Path(path)
    parent = open_dir(path.parent)
    try:
        return _open_regular(parent, path.name, what, path.name)
    finally:
        os.close(parent)


def read_bytes(path: Path | str, what: str, offset: int = 0) -> bytes:
    """The bytes of regular file `path` from `offset`, the file itself never a link or FIFO."""
    fd = open_file(path, what)
    with os.fdopen(fd, "rb") as f:
        f.seek(offset)
        return f.read()


def walk(root: Path | str | int, what: str) -> list[Entry]:
    """Every file, folder and inner link below the trusted folder `root` (see `_walk`); a
    link to outside it or a special file is an UnsafeFileError naming it."""
    fd = open_dir(root) if not isinstance(root, int) else os.dup(root)
    try:
        return list(_walk(fd, "", what))
    finally:
        os.close(fd)


def _walk(dir_fd: int, prefix: str, what: str) -> Iterator[Entry]:
    """Entries of one folder, files and links first (by name), then each folder and its
    content (by name): the order `os.walk` gives, so content hashes stay as they were."""
    with os.scandir(dir_fd) as it:
        names = sorted(e.name for e in it)
    folders: list[tuple[str, os.stat_result]] = []
    for name in names:
        rel = prefix + name
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed while we looked
        mode = st.st_mode
        if stat.S_ISREG(mode):
            yield Entry(rel, "file", st)
        elif stat.S_ISDIR(mode):
            folders.append((name, st))
        elif stat.S_ISLNK(mode):
            target = os.readlink(name, dir_fd=dir_fd)
            if not link_stays_inside(rel, target):
                raise UnsafeFileError(f"{what} contains a link to outside it ({rel} -> {target})")
            yield Entry(rel, "link", st, target)
        else:
            raise UnsafeFileError(f"{what} contains {special_kind(mode) or 'a special file'} ({rel})")
    for name, st in folders:
        yield Entry(prefix + name, "dir", st)
        child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        try:
            yield from _walk(child, prefix + name + "/", what)
        finally:
            os.close(child)


def check_tree(root: Path, what: str) -> None:
    """Raise UnsafeFileError if `root` (or anything in it) is a link to outside it or a special
    file; a missing `root` is fine."""
    root = Path(root)
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFileError(f"{what} is a link ({root.name} -> {os.readlink(root)})")
    if stat.S_ISDIR(st.st_mode):
        walk(root, what)
    elif not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(f"{what} is {special_kind(st.st_mode) or 'a special file'} ({root.name})")


def _copy_fd(src_fd: int, dest_dir: int, name: str, mode: int) -> None:
    """Copy the open file `src_fd` to `name` in `dest_dir`: written under a fresh temporary
    name, then renamed over `name` (a link there is replaced, never followed)."""
    tmp = f".{name}.amlocal-{os.getpid()}-{os.urandom(4).hex()}"
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                  stat.S_IMODE(mode) | 0o600, dir_fd=dest_dir)
    try:
        try:
            os.copy_file_range  # noqa: B018 - the fast path where the kernel has it
            while os.copy_file_range(src_fd, out, _CHUNK):
                pass
        except (AttributeError, OSError):
            os.lseek(src_fd, 0, os.SEEK_SET)
            os.lseek(out, 0, os.SEEK_SET)
            os.ftruncate(out, 0)
            while chunk := os.read(src_fd, _CHUNK):
                os.write(out, chunk)
    except BaseException:
        os.close(out)
        os.unlink(tmp, dir_fd=dest_dir)
        raise
    os.close(out)
    os.replace(tmp, name, src_dir_fd=dest_dir, dst_dir_fd=dest_dir)


def copy_tree(src: Path | str, dest_base: Path | str, dest_rel: str | os.PathLike, what: str,
              dest_what: str | None = None) -> int:
    """Copy the file or folder `src` (a step could have written it: checked as `what`) to
    `dest_rel` below the trusted `dest_base` (folders that already exist there are entered
    only if they are real folders: checked as `dest_what`), merging with what is there.
    Inner links are copied as links. Returns how many files were copied."""
    src = Path(src)
    dest_what = dest_what or what
    st = os.lstat(src)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFileError(f"{what} is a link ({src.name} -> {os.readlink(src)})")
    if stat.S_ISREG(st.st_mode):
        parts = _parts(dest_rel)
        dest = open_dir_beneath(dest_base, "/".join(parts[:-1]), dest_what, create=True)
        try:
            fd = open_file(src, what)
            try:
                _copy_fd(fd, dest, parts[-1], st.st_mode)
            finally:
                os.close(fd)
        finally:
            os.close(dest)
        return 1
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeFileError(f"{what} is {special_kind(st.st_mode) or 'a special file'} ({src.name})")
    entries = walk(src, what)  # all of it checked before anything is written
    src_fd = open_dir(src)
    dest_fd = open_dir_beneath(dest_base, dest_rel, dest_what, create=True)
    copied = 0
    try:
        for entry in entries:
            parent, _, name = entry.rel.rpartition("/")
            if entry.kind == "dir":
                os.close(open_dir_beneath(dest_fd, entry.rel, dest_what, create=True))
                continue
            into = open_dir_beneath(dest_fd, parent, dest_what)
            try:
                if entry.kind == "link":
                    try:
                        os.unlink(name, dir_fd=into)
                    except FileNotFoundError:
                        pass
                    os.symlink(entry.link_target or "", name, dir_fd=into)
                    continue
                fd = open_file_beneath(src_fd, entry.rel, what)
                try:
                    _copy_fd(fd, into, name, entry.stat.st_mode)
                finally:
                    os.close(fd)
                copied += 1
            finally:
                os.close(into)
    finally:
        os.close(src_fd)
        os.close(dest_fd)
    return copied


def copy_file_out(base: Path | str, rel: str | os.PathLike, target: Path, what: str) -> None:
    """Copy the regular file `rel` below trusted `base` (no component followed) to `target`,
    a path of the user's own choosing (written as usual)."""
    fd = open_file_beneath(base, rel, what)
    with os.fdopen(fd, "rb") as src, open(target, "wb") as out:
        while chunk := src.read(_CHUNK):
            out.write(chunk)


def sha256_beneath(dir_fd: int, rel: str, what: str, digest_factory: Callable,
                   canceled: Callable[[], bool] | None = None) -> str:
    """The hex digest of regular file `rel` below `dir_fd`, stopping with `Canceled` as soon as
    `canceled()` says so (checked between chunks)."""
    fd = open_file_beneath(dir_fd, rel, what)
    digest = digest_factory()
    try:
        while chunk := os.read(fd, _CHUNK):
            if canceled is not None and canceled():
                raise Canceled(f"hashing {what} was canceled")
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


def read_log(path: Path | str) -> str:
    """The text of a log file a step writes to ("" while there is none); a link or FIFO in
    its place is an UnsafeFileError, never followed or read."""
    try:
        return read_bytes(path, f"the step run folder {Path(path).parent.name}").decode(
            "utf-8", errors="replace")
    except FileNotFoundError:
        return ""
