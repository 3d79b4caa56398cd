"""A mount backed by a folder on the local file system.

Containment: every path is resolved with ``realpath`` and must stay under the resolved root, so a
symlink (final or any parent) that points outside is refused with AccessDenied. Files are then
opened through the resolved path with ``O_NOFOLLOW``, so a symlink swapped in after the check is
not followed either. Residual risk: a hostile local user who can rename *parent folders* inside the
root between check and use; the root is assumed to be writable by this service only.

Writes stream into a hidden temp file in the destination folder, are fsynced, then renamed over
the target, so readers never see a partial object. ETags are a hash of (inode, size, mtime_ns):
free to compute, and they change on every write because each write is a new inode. The content
type given on write is kept in the ``user.webos.content_type`` extended attribute when the file
system supports it; otherwise it is guessed from the file name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mimetypes
import os
import stat as stat_mod
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from ._backend import DEFAULT_CHUNK_SIZE, ObjectStat, PresignMethod, check_expiry, check_range
from ._errors import (
    AccessDenied,
    AlreadyExists,
    InvalidURN,
    NotFound,
    PresignUnavailable,
    StorageError,
)
from ._fileio import read_chunks, write_chunks
from ._presign import presigned_url, sign_presigned
from ._urn import URN, validate_path

DEFAULT_LOCAL_ROOT = "./.webos/storage"
TEMP_SUFFIX = ".afs-tmp"
CONTENT_TYPE_XATTR = "user.webos.content_type"
FALLBACK_CONTENT_TYPE = "application/octet-stream"
_OPEN_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or FALLBACK_CONTENT_TYPE


def _etag(st: os.stat_result) -> str:
    raw = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode()
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


class LocalBackend:
    """Objects are plain files under ``root``; folders are created and pruned implicitly."""

    def __init__(
        self,
        root: str | os.PathLike[str] = DEFAULT_LOCAL_ROOT,
        *,
        mount: str | None = None,
        secret: str | bytes | None = None,
        base_url: str = "",
        durable: bool = True,
    ) -> None:
        self.root = Path(root)
        self.mount = mount
        self._secret = secret
        self._base_url = base_url
        self._durable = durable
        self._pool: ThreadPoolExecutor | None = None

    def _io_pool(self) -> ThreadPoolExecutor:
        """Threads for streaming reads and writes, apart from the loop's default executor so
        long transfers cannot starve ``asyncio.to_thread`` users elsewhere in the process."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="afs-local")
        return self._pool

    def __repr__(self) -> str:
        return f"LocalBackend(root={str(self.root)!r}, mount={self.mount!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _where(self, path: str) -> str:
        return f"fs://{self.mount}/{path}" if self.mount else repr(path)

    def _real_root(self) -> str:
        return os.path.realpath(self.root)

    def _resolve(self, path: str, *, allow_root: bool = False) -> str:
        """Realpath of ``path`` under the root, refusing anything that escapes it."""
        validate_path(path, allow_root=allow_root, urn=self._where(path))
        root = self._real_root()
        real = os.path.realpath(os.path.join(root, *path.split("/")) if path else root)
        if real != root and not real.startswith(root + os.sep):
            raise AccessDenied(
                f"{self._where(path)} resolves outside the storage root (symlink escape)",
                urn=self._where(path),
                mount=self.mount,
            )
        return real

    def _stat_real(self, path: str, real: str) -> ObjectStat:
        try:
            st = os.stat(real, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"{self._where(path)} not found", urn=self._where(path)) from None
        if not stat_mod.S_ISREG(st.st_mode):
            raise NotFound(f"{self._where(path)} is not an object", urn=self._where(path))
        try:
            content_type = os.getxattr(real, CONTENT_TYPE_XATTR).decode("utf-8")
        except (OSError, AttributeError, UnicodeDecodeError):
            content_type = _guess_type(path)
        modified = datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC)
        return ObjectStat(path, st.st_size, modified, content_type, _etag(st))

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        def check() -> None:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"mount {self.mount!r}: cannot create storage root {self.root}: {exc}",
                    mount=self.mount,
                ) from exc
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StorageError(
                    f"mount {self.mount!r}: storage root {self.root} is not writable",
                    mount=self.mount,
                )

        await asyncio.to_thread(check)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    # -- operations -------------------------------------------------------------------------

    async def read_stream(
        self,
        path: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[bytes]:
        check_range(offset, length)

        def open_fd() -> tuple[int, int]:
            real = self._resolve(path)
            try:
                fd = os.open(real, _OPEN_READ)
            except (FileNotFoundError, NotADirectoryError):
                raise NotFound(f"{self._where(path)} not found", urn=self._where(path)) from None
            except OSError as exc:  # ELOOP: a symlink was swapped in after the check
                raise AccessDenied(f"{self._where(path)}: {exc.strerror}") from None
            st = os.fstat(fd)
            if not stat_mod.S_ISREG(st.st_mode):  # a folder is not an object
                os.close(fd)
                raise NotFound(f"{self._where(path)} is not an object", urn=self._where(path))
            return fd, st.st_size

        fd, size = await asyncio.to_thread(open_fd)
        # The size as opened bounds the read, so the end is known without reading past it.
        available = max(size - offset, 0)
        reader = read_chunks(
            self._io_pool(),
            fd,
            offset=offset,
            length=available if length is None else min(length, available),
            chunk_size=chunk_size,
            close=partial(os.close, fd),
        )
        try:
            async for chunk in reader:
                yield chunk
        finally:
            await reader.aclose()  # closes the fd now, not whenever the GC gets to it

    def _open_temp(self, path: str) -> tuple[int, str, str]:
        real = self._resolve(path)
        parent = os.path.dirname(real)
        for _attempt in range(3):  # a concurrent delete may prune the folder under us
            try:
                os.makedirs(parent, exist_ok=True)
                # Re-check: the folder chain may have been created by someone else, via a link.
                if self._resolve(path) != real:
                    raise AccessDenied(f"{self._where(path)} changed while writing")
                fd, tmp = tempfile.mkstemp(
                    prefix=f".{os.path.basename(real)[:64]}.", suffix=TEMP_SUFFIX, dir=parent
                )
                return fd, tmp, real
            except FileNotFoundError:
                continue
            except (FileExistsError, NotADirectoryError):
                raise AlreadyExists(
                    f"{self._where(path)}: a file is in the way of its folder",
                    urn=self._where(path),
                ) from None
        raise StorageError(f"{self._where(path)}: folder keeps disappearing", urn=self._where(path))

    def _commit(self, path: str, fd: int, tmp: str, real: str, content_type: str | None) -> None:
        if content_type:
            # No xattr support: stat falls back to guessing from the name.
            with contextlib.suppress(OSError, AttributeError):
                os.setxattr(tmp, CONTENT_TYPE_XATTR, content_type.encode("utf-8"))
        try:
            os.fchmod(fd, 0o644)
            if self._durable:
                os.fsync(fd)
        finally:
            os.close(fd)  # always: the caller must never close an fd number twice
        # Freeing the replaced object's blocks and cached pages happens when its last name and
        # descriptor go: holding one across the rename moves that work (12 ms for 64 MiB
        # here) out of the write, to a worker thread afterwards.
        try:
            replaced: int | None = os.open(real, _OPEN_READ)
        except OSError:
            replaced = None  # nothing there yet (or a folder: the rename says so)
        try:
            os.replace(tmp, real)
        except IsADirectoryError:
            where = self._where(path)
            raise AlreadyExists(f"{where} is a folder", urn=where) from None
        finally:
            if replaced is not None:
                self._close_later(replaced)
        if self._durable:
            dir_fd = os.open(os.path.dirname(real), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    async def write_stream(
        self, path: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> ObjectStat:
        fd, tmp, real = await asyncio.to_thread(self._open_temp, path)
        fd_open, committed = True, False
        try:
            await write_chunks(
                self._io_pool(),
                fd,
                chunks,
                on_abort=partial(self._discard, fd, tmp),
                writeback=self._durable,
            )
            fd_open = False
            await asyncio.to_thread(self._commit, path, fd, tmp, real, content_type)
            committed = True
        finally:
            if not fd_open and not committed:
                self._discard(None, tmp)  # _commit closed the fd whatever happened
        return await self.stat(path)

    def _close_later(self, fd: int) -> None:
        try:
            self._io_pool().submit(os.close, fd)
        except RuntimeError:  # the backend is closing: no thread to hand it to
            os.close(fd)

    @staticmethod
    def _discard(fd: int | None, tmp: str) -> None:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)

    async def stat(self, path: str) -> ObjectStat:
        return await asyncio.to_thread(lambda: self._stat_real(path, self._resolve(path)))

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
        except NotFound:
            return False
        return True

    def _entry_stat(self, rel: str, full: str) -> ObjectStat | None:
        """Stat of a listed file, or None if it must stay invisible (temp, escaping, odd name)."""
        if os.path.basename(full).endswith(TEMP_SUFFIX):
            return None
        try:
            return self._stat_real(rel, self._resolve(rel))
        except (InvalidURN, AccessDenied, NotFound):
            return None

    def _list_sync(self, prefix: str, recursive: bool) -> list[ObjectStat]:
        real = self._resolve(prefix, allow_root=True)
        if not os.path.isdir(real):
            return []
        base = f"{prefix}/" if prefix else ""
        out: list[ObjectStat] = []
        if recursive:
            for folder, _dirs, files in os.walk(real):
                rel_dir = os.path.relpath(folder, real).replace(os.sep, "/")
                rel_base = base if rel_dir == "." else f"{base}{rel_dir}/"
                for name in files:
                    if (
                        item := self._entry_stat(rel_base + name, os.path.join(folder, name))
                    ) is not None:
                        out.append(item)
        else:
            with os.scandir(real) as entries:
                for entry in entries:
                    rel = base + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        try:
                            validate_path(rel)
                        except InvalidURN:
                            continue
                        out.append(ObjectStat(rel, 0, None, "", "", is_dir=True))
                    elif (item := self._entry_stat(rel, entry.path)) is not None:
                        out.append(item)
        return sorted(out, key=lambda item: item.path)

    async def list(self, prefix: str, *, recursive: bool = False) -> list[ObjectStat]:
        return await asyncio.to_thread(self._list_sync, prefix, recursive)

    def _delete_sync(self, path: str) -> None:
        real = self._resolve(path)  # refuses links that point outside
        self._stat_real(path, real)
        # Remove the name the caller addressed (a link stays a link target's business).
        root = self._real_root()
        parent, _, name = path.rpartition("/")
        lexical = os.path.join(self._resolve(parent, allow_root=True), name)
        os.unlink(lexical)
        folder = os.path.dirname(lexical)
        while folder != root and folder.startswith(root + os.sep):
            try:
                os.rmdir(folder)  # prune empty folders so the tree mirrors object stores
            except OSError:
                break
            folder = os.path.dirname(folder)

    async def delete(self, path: str) -> None:
        await asyncio.to_thread(self._delete_sync, path)

    async def presign(
        self,
        path: str,
        *,
        expires: timedelta,
        method: PresignMethod = "GET",
        content_type: str | None = None,
    ) -> str:
        check_expiry(expires)
        if self.mount is None:
            raise StorageError(
                f"{self._where(path)}: local presign needs the backend's mount name",
                mount=self.mount,
            )
        if not self._secret:
            raise PresignUnavailable(
                f"{self._where(path)}: this process signs no local presigned URLs "
                "(WEBOS_STORAGE_PRESIGN_SECRET is unset)",
                mount=self.mount,
            )
        token = sign_presigned(
            URN(self.mount, path),
            self._secret,
            expires=expires,
            method=method,
            content_type=content_type,
        )
        return presigned_url(token, self._base_url)
