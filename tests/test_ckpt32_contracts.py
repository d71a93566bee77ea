"""Review ckpt32: write failures and data safety in run directories."""

from __future__ import annotations

import errno
import importlib
import os
import tempfile
from pathlib import Path

import pytest

from conftest import assert_user_error, run_cli, small_config
from trainlab.config import dump_config

train_mod = importlib.import_module("trainlab.train")


def _cfg(epochs: int = 2):
    return small_config(train={"epochs": epochs, "batch_size": 128}, population={"seeds": [0, 1]})


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # pragma: no cover - not Linux
        pytest.skip("needs /proc/self/fd")


def _full_disk_on_lock(monkeypatch):
    """``os.write`` of the pid into a run's ``.lock`` fails with ENOSPC, as on a full disk
    (the only write between the config/population files and the first metrics row)."""
    real_write = os.write

    def write(fd, data):
        if _fd_path(fd).endswith("/.lock"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


# runs.py RunDir.lock(): after flock succeeds, os.ftruncate/os.write of the pid raise a bare
# OSError; the descriptor (which holds the flock) is never closed and _lock_fd is never set, so
# the process keeps the run locked for the rest of its life. A user who hits a full disk in a
# notebook, frees space and calls resume() is told the run "is being written by another
# trainlab process" (their own) until the kernel restarts. Expected: the failed lock() releases
# the lock. (Since 2026-12-01 the lock is taken as the run folder is made, before config.yaml is
# written (concur33): the failed start removes the folder, as any failed start does, and the
# same train in the same process then makes and trains the run.)
def test_a_full_disk_while_taking_the_run_lock_does_not_keep_the_run_locked(tmp_path, monkeypatch):
    out = tmp_path / "run"
    _full_disk_on_lock(monkeypatch)
    with pytest.raises(OSError):
        train_mod.train(_cfg(), out=out, progress=False, device="cpu")
    monkeypatch.undo()
    if out.exists():  # (a folder left behind must not read as locked by this process)
        from trainlab.runs import RunDir

        assert RunDir(out).writer() is None
    result = train_mod.train(_cfg(), out=out, progress=False, device="cpu")
    assert result.summary["epochs"] == 2


# The same failure through the CLI: cli/app.py prints "error: cannot write: No space left on
# device; ..." with no file or folder at all (the OSError from os.write carries no filename,
# unlike every other write, which atomic.named / append_jsonl name). Expected: the one line
# names where it could not write (the run folder's .lock), as for metrics.jsonl or last.pt.
def test_a_full_disk_while_taking_the_run_lock_names_the_file_in_the_cli_error(
    tmp_path, monkeypatch, capsys
):
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(dump_config(_cfg()))
    out = tmp_path / "run"
    _full_disk_on_lock(monkeypatch)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg_path, "--out", out, "--device", "cpu", "--no-report"
    )
    assert_user_error(code, err, str(out / ".lock"))


# cli/app.py _main: an EROFS (read-only mount) tells the user to "use a writable folder (--out,
# or a copy)" whatever the command; `trainlab report` (and `resume`) have no --out option
# (`trainlab report RUN --out X` is a usage error). The EACCES branch beside it already avoids
# naming --out for that reason ("resume and report take no path"). Expected: report's message on
# a read-only run folder does not point to an option report does not have.
def test_report_of_a_run_on_a_read_only_disk_does_not_suggest_an_out_option(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    train_mod.train(_cfg(epochs=1), out=out, progress=False, device="cpu")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def inside(path) -> bool:
        return str(path).startswith(str(out))

    real_mkstemp, real_mkdir = tempfile.mkstemp, Path.mkdir

    def mkstemp(*a, dir=None, **k):
        if dir is not None and inside(dir):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real_mkstemp(*a, dir=dir, **k)

    def mkdir(self, *a, **k):
        if inside(self) and not self.exists():
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    code, _, err = run_cli(monkeypatch, capsys, "report", out)
    monkeypatch.undo()
    assert_user_error(code, err, str(out))
    assert "--out" not in err, err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
