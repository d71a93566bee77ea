"""Review rev37d: small infrastructure modules (atomic, threads)."""

from __future__ import annotations

import errno
import os
import stat
import threading
from unittest import mock

import pytest
import torch

from trainlab import atomic
from trainlab import threads as T


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_atomic_open_failed_chmod_leaks_no_descriptor(tmp_path):
    """atomic_open: when os.fchmod on the fresh temp file fails (an I/O error), the temp file
    is unlinked but its descriptor from mkstemp was never closed (os.fdopen was not reached
    yet), so every failed write leaked one fd.
    Expected: open fd count unchanged after 5 failed writes; got: 5 more."""
    before = _open_fds()
    refused = OSError(errno.EIO, "Input/output error")  # (EPERM is ignored: see diff37a)
    with mock.patch("os.fchmod", side_effect=refused):
        for _ in range(5):
            with pytest.raises(OSError):
                atomic.atomic_write_text(tmp_path / "f.json", "{}")
    assert _open_fds() - before == 0
    assert not any(p.name.endswith(atomic.TEMP_SUFFIX) for p in tmp_path.iterdir())


def test_atomic_write_dir_fsync_error_names_the_file(tmp_path):
    """atomic_open: an OSError from the folder's fsync (after the rename) escapes outside the
    try that names errors after the file meant, so the user gets '[Errno 5] Input/output
    error' naming no file (house rule: one line naming the problem). Every other write error
    is named after the target path (module comment: 'named after the file meant').
    Expected: the error's filename is the target path (or no error at all); got: filename None."""
    target = tmp_path / "summary.json"
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, "Input/output error")
        return real_fsync(fd)

    with mock.patch("os.fsync", side_effect=fsync):
        try:
            atomic.atomic_write_text(target, "{}")
        except OSError as err:
            assert err.filename == str(target), f"unnamed error: {err}"


def test_torch_threads_failed_block_leaves_no_open_block(fresh_threads_state):
    """torch_threads(n): the bookkeeping (_OPEN += 1, _SET, this thread's depth) is done before
    torch.set_num_threads(n), outside the try/finally, so a block whose n torch refuses
    (torch_threads(0): RuntimeError 'set_num_threads expects a positive integer') counts as
    open forever. The process default is then never re-recorded: a later pool-worker block
    that inherited another block's count (the case the module exists for) is 'restored' to the
    stale default from the time of the failure instead of the user's current one.
    Expected: worker thread ends with 3 threads (the default before the blocks, per the
    docstring); got: 2 (the default at the failed block)."""
    torch.set_num_threads(2)
    with pytest.raises(RuntimeError), T.torch_threads(0):
        pass
    torch.set_num_threads(3)  # the user's own choice from now on

    x_open, y_done = threading.Event(), threading.Event()
    got: list[int] = []

    def x():
        with T.torch_threads(1):
            x_open.set()
            y_done.wait(10)

    def y():  # a new thread started while x's block is open: it inherits 1
        with T.torch_threads(1):
            pass
        got.append(torch.get_num_threads())
        y_done.set()

    tx = threading.Thread(target=x)
    tx.start()
    x_open.wait(10)
    ty = threading.Thread(target=y)
    ty.start()
    ty.join(10)
    tx.join(10)
    assert got == [3]


def test_atomic_write_on_a_file_system_that_cannot_sync_folders(tmp_path):
    """A folder fsync refused as unsupported (EINVAL, as some network file systems answer) is
    no error: the file was written and renamed; a real I/O error still raises (test above)."""
    target = tmp_path / "summary.json"
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_fsync(fd)

    with mock.patch("os.fsync", side_effect=fsync):
        atomic.atomic_write_text(target, "{}")
    assert target.read_text() == "{}"
