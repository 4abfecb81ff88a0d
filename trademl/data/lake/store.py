"""Storage back ends of the lake: a local directory (POSIX atomic rename, fsync, flock) or an fsspec store.

One concern: the filesystem primitives the lake's commit algorithm needs (list, durable write,
atomic put/commit, remove, the per-partition writer lock), behind the same small interface for
both back ends, so `trademl.data.lake.api` never branches on where the root lives.
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

LOCK_NAME = ".lock"
TMP_PREFIX = ".tmp-"


class _LocalStore:
    """Local filesystem primitives with durable, atomic commits."""

    is_local = True

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self._thread_locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def join(self, *parts: str) -> str:
        return os.path.join(*parts)

    def listdir(self, path: str) -> list[str]:
        try:
            return os.listdir(path)
        except FileNotFoundError:
            return []

    def list_tree(self, path: str) -> dict[str, list[str]]:
        """Sub-directory name -> names of the files in it, one level down."""
        out: dict[str, list[str]] = {}
        try:
            subdirs = [e for e in os.scandir(path) if e.is_dir()]
        except FileNotFoundError:
            return out
        for entry in subdirs:
            out[entry.name] = os.listdir(entry.path)
        return out

    def makedirs(self, path: str) -> None:
        self.makedirs_many([path])

    def makedirs_many(self, paths: Sequence[str]) -> None:
        """Create directories durably: every parent that gained an entry is fsynced once, parents first."""
        touched: set[str] = set()
        for path in paths:
            probe = path
            while not os.path.isdir(probe):
                touched.add(os.path.dirname(probe))
                probe = os.path.dirname(probe)
            os.makedirs(path, exist_ok=True)
        for parent in sorted(touched, key=len):
            _fsync_dir(parent)

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    def write_new(self, path: str, data: pa.Buffer | bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def put_atomic(self, path: str, data: bytes) -> None:
        tmp = self.join(os.path.dirname(path), f"{TMP_PREFIX}{uuid.uuid4().hex}.json")
        self.write_new(tmp, data)
        self.commit(tmp, path)

    def commit(self, src: str, dst: str) -> None:
        os.replace(src, dst)
        _fsync_dir(os.path.dirname(dst))

    def remove(self, path: str) -> None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass

    def open_for_parquet(self, path: str) -> str:
        return path

    def duckdb_path(self, path: str) -> str:
        return path

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Local paths need no filesystem registration."""

    def acquire(self, directory: str) -> Callable[[], None]:
        """Take the writer lock of `directory` (in-process lock, then flock); returns its release.

        The release may be called from another thread (a staged version is committed by the
        ledger thread of `trademl.data.ingest`), so the in-process lock is a plain Lock, not an RLock.
        """
        with self._registry_lock:
            tlock = self._thread_locks.setdefault(directory, threading.Lock())
        tlock.acquire()
        try:
            fd = os.open(self.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            tlock.release()
            raise

        def release() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            finally:
                tlock.release()

        return release

    @contextmanager
    def lock(self, directory: str) -> Iterator[None]:
        release = self.acquire(directory)
        try:
            yield
        finally:
            release()


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FsspecStore:
    """fsspec primitives: object puts are atomic, moves are copy-then-delete on the server."""

    is_local = False

    def __init__(self, url: str) -> None:
        import fsspec.core

        self.fs, root = fsspec.core.url_to_fs(url)
        self.root = self.fs.unstrip_protocol(root.rstrip("/") or "/")  # paths keep their protocol
        self._thread_locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def join(self, *parts: str) -> str:
        return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))

    def listdir(self, path: str) -> list[str]:
        try:
            entries = self.fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        return [e.rstrip("/").rsplit("/", 1)[-1] for e in entries]

    def list_tree(self, path: str) -> dict[str, list[str]]:
        """Sub-directory name -> names of the files in it, from one recursive listing."""
        out: dict[str, list[str]] = {}
        base = self.fs._strip_protocol(path).rstrip("/") + "/"
        try:
            found = self.fs.find(path, maxdepth=2)
        except FileNotFoundError:
            return out
        for full in found:
            rel = self.fs._strip_protocol(full)[len(base) :].split("/")
            if len(rel) == 2:
                out.setdefault(rel[0], []).append(rel[1])
        return out

    def makedirs(self, path: str) -> None:
        self.fs.makedirs(path, exist_ok=True)

    def makedirs_many(self, paths: Sequence[str]) -> None:
        for path in paths:
            self.fs.makedirs(path, exist_ok=True)

    def read_bytes(self, path: str) -> bytes:
        return self.fs.cat_file(path)

    def write_new(self, path: str, data: pa.Buffer | bytes) -> None:
        self.fs.pipe_file(path, bytes(memoryview(data)))

    def put_atomic(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(path, data)

    def commit(self, src: str, dst: str) -> None:
        self.fs.mv(src, dst)

    def remove(self, path: str) -> None:
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass

    def open_for_parquet(self, path: str) -> pa.BufferReader:
        return pa.BufferReader(self.read_bytes(path))

    def duckdb_path(self, path: str) -> str:
        return self.fs.unstrip_protocol(path)

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        con.register_filesystem(self.fs)

    def acquire(self, directory: str) -> Callable[[], None]:
        """Take the in-process writer lock of `directory` (object stores have no advisory locks)."""
        with self._registry_lock:
            tlock = self._thread_locks.setdefault(directory, threading.Lock())
        tlock.acquire()
        return tlock.release

    @contextmanager
    def lock(self, directory: str) -> Iterator[None]:
        release = self.acquire(directory)
        try:
            yield
        finally:
            release()


def _open_store(root: str | os.PathLike) -> _LocalStore | _FsspecStore:
    """The back end of a lake root: fsspec for a URL other than file://, else the local store."""
    text = os.fspath(root)
    if "://" in text and not text.startswith("file://"):
        return _FsspecStore(text)
    text = text.removeprefix("file://")
    return _LocalStore(Path(text).expanduser().resolve())


Store = _LocalStore | _FsspecStore
