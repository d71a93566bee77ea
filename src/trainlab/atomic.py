"""Atomic file writes: readers (and a ``kill -9`` at any moment) see the old file or the new
one, never half of one. No torch import, so that the report can use it too.

The data goes to a temporary file in the same folder, which is flushed and fsynced, then
renamed over the target (rename is atomic on POSIX), and the folder is fsynced. The file gets
the permissions a plain ``open()`` would give it (``0666`` less the umask), not ``mkstemp``'s
``0600``.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "named",
    "refuse_symlinks",
    "TEMP_SUFFIX",
]

#: what trainlab writes or appends to inside a run folder (``report.html`` is replaced whole)
RUN_ENTRIES = (
    ".lock",
    "checkpoints",
    "figures",
    "config.yaml",
    "population.json",
    "summary.json",
    "metrics.jsonl",
    "diagnostics.jsonl",
    "verdict.json",
    "report_sections.json",
)


def refuse_symlinks(folder: str | Path, names: tuple[str, ...] = RUN_ENTRIES) -> None:
    """A UserError when one of ``names`` in ``folder`` is a symbolic link:
    writing or appending through it would change a file outside the run folder (a folder sent
    as a tarball keeps its links)."""
    from .errors import UserError

    links = [n for n in names if (Path(folder) / n).is_symlink()]
    if links:
        raise UserError(
            f"{folder} holds symbolic links ({', '.join(links)}); trainlab writes into a run "
            "folder's own files only: replace each link with a copy of what it points to"
        )


#: the temporary files' suffix (``.<name>.<random>.trainlab-tmp``): distinct enough that
#: cleaning up after a kill never deletes a user's own ``.tmp`` file
TEMP_SUFFIX = ".trainlab-tmp"


#: what fsync of a folder raises on a file system that cannot sync folders (nothing to do)
_NO_DIR_FSYNC = {errno.EINVAL, errno.EBADF, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EISDIR}
#: what chmod raises on a file system with fixed permissions (vfat/exfat: EPERM for bits its
#: mount mask does not give): the file keeps the permissions the file system gives it
_NO_CHMOD = {errno.EPERM, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


def _fsync_dir(path: Path) -> None:
    """Sync the folder ``path`` (a rename in it reaches the disk); a file system that cannot
    sync a folder is left alone, a real error (EIO) raises."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in _NO_DIR_FSYNC:
            raise
    finally:
        os.close(fd)


def _umask() -> int:
    """The process umask (read by setting it, then restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_prefix(name: str) -> str:
    """``.<name>.``, with ``name`` cut to its first 100 bytes when the temporary file's name
    (prefix, mkstemp's 8 characters, :data:`TEMP_SUFFIX`) would pass the 255-byte limit of
    a file name: a legal name near that limit must still be writable."""
    raw = os.fsencode(name)
    if len(raw) > 255 - 2 - 8 - len(TEMP_SUFFIX):
        raw = raw[:100]
    return f".{os.fsdecode(raw)}."


@contextmanager
def atomic_open(path: str | Path, *, exclusive: bool = False) -> Iterator[BinaryIO]:
    """``with atomic_open(path) as f: ...`` writes a binary file that readers see whole or not
    at all: ``f`` is a temporary file beside ``path``, renamed over it when the block ends
    (deleted instead if the block raises). Data streams to disk as it is written, so a large
    checkpoint is never held in memory a second time. ``exclusive``: a file at ``path`` is
    never replaced, also one made while the block ran (``FileExistsError``): the temporary
    file is hard-linked to ``path`` instead of renamed over it."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=_temp_prefix(path.name), suffix=TEMP_SUFFIX, dir=path.parent
        )
    except OSError as err:  # a folder that cannot be written: name the file meant
        raise named(err, path) from err
    try:
        # mkstemp makes 0600; a plain open() would not: it keeps an existing file's mode and
        # gives a new one 0666 less the umask
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        with os.fdopen(fd, "wb") as f:  # (closes fd also if fchmod fails)
            try:
                os.fchmod(f.fileno(), mode)
            except OSError as err:
                if err.errno not in _NO_CHMOD:
                    raise
            yield f
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            _link_new(tmp, path)
        else:
            os.replace(tmp, path)
    except FileExistsError:
        Path(tmp).unlink(missing_ok=True)
        raise
    except OSError as err:  # disk full, I/O error, ...: named after the file meant, not the temp
        Path(tmp).unlink(missing_ok=True)
        if err.filename not in (None, tmp):
            raise
        raise named(err, path) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        _fsync_dir(path.parent)
    except OSError as err:  # the file is in place; its rename may not have reached the disk
        raise named(err, path) from err


def _link_new(tmp: str, path: Path) -> None:
    """Give the written ``tmp`` the name ``path`` unless something has it
    (``FileExistsError``): a hard link, atomic, or where the file system has none, ``path``
    reserved with an exclusive create and then replaced."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
    except OSError:  # (no hard links here: FAT, some network file systems)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


def named(err: OSError, path: str | Path) -> OSError:
    """``err`` (a write's ``OSError``, which carries no filename) naming ``path``."""
    return type(err)(err.errno, err.strerror or str(err), str(path))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    with atomic_open(path) as f:
        f.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))
