"""Review oserr20: operating-system failures (disk full, no permission) met through the CLI.

Each test fails on the code as reviewed and states the behaviour that is right."""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path

import pytest

from conftest import FullDiskFile, assert_user_error, run_cli_catching, small_config
from trainlab.config import dump_config


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # pragma: no cover - not Linux
        pytest.skip("needs /proc/self/fd")


def _config(tmp_path: Path, epochs: int = 1) -> Path:
    path = tmp_path / "c.yaml"
    cfg = small_config(train={"epochs": epochs, "batch_size": 128}, population={"seeds": [0, 1]})
    path.write_text(dump_config(cfg))
    return path


def _enospc_on_fsync(monkeypatch, marker: str, nth: int = 1) -> None:
    """``os.fsync`` of the ``nth`` temporary file whose name holds ``marker`` fails as on a
    full disk."""
    real, seen = os.fsync, []

    def fsync(fd):
        target = _fd_path(fd)
        if marker in target and target.endswith(".trainlab-tmp"):
            seen.append(target)
            if len(seen) == nth:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_disk_full_while_train_writes_config_yaml_leaves_no_folder_that_blocks_running_it_again(
    tmp_path, monkeypatch, capsys
):
    # train.py _start_run: RunDir.create claims --out (checkpoints/ + .lock), then config.yaml's
    # write fails (ENOSPC); the claimed folder stays, is not a run (resume: "no config.yaml"),
    # and the CLI's advice "free space ... and run it again" is refused ("already exists").
    # Right: a run that failed before its config/population were written removes its claim
    # (as pretrain's _discarded_unless_done does), so the same command works once space is free.
    cfg = _config(tmp_path)
    out = tmp_path / "run"
    _enospc_on_fsync(monkeypatch, "config.yaml")
    code, _, err = run_cli_catching(
        monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report"
    )
    monkeypatch.undo()
    assert_user_error(code, err, "config.yaml")
    code, _, err = run_cli_catching(  # the same command again, once the disk has room
        monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report"
    )
    assert code == 0, err
    assert (out / "summary.json").is_file()


def test_disk_full_during_trainlab_train_tells_the_user_to_resume_not_to_run_it_again(
    tmp_path, monkeypatch, capsys
):
    # cli/app.py main: ENOSPC while `trainlab train` writes its epoch-2 checkpoint says "free
    # space ... and run it again", but `trainlab train` again is refused (the folder exists);
    # right: as after Ctrl-C, name the command that continues it: `trainlab resume DIR`.
    cfg = _config(tmp_path, epochs=3)
    out = tmp_path / "run"
    _enospc_on_fsync(monkeypatch, "last.pt", nth=2)
    code, _, err = run_cli_catching(
        monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report"
    )
    monkeypatch.undo()
    assert_user_error(code, err, "last.pt")
    assert f"trainlab resume {out}" in err, err


def test_disk_full_while_a_study_writes_results_json_leaves_no_truncated_file_and_names_it(
    tmp_path, monkeypatch, capsys
):
    # studies/optimizers_2d.py:348 (also clipping.py:226, optimizers.py:398,
    # preprocessing.py:499) write results.json with Path.write_text, not atomically: a full disk
    # leaves a truncated, unparseable results.json, and the filename-less OSError prints
    # "cannot write: No space left on device" naming no file. Right: atomic_write_text (the
    # file is whole or absent) and a one-line error that names results.json.
    from matplotlib.figure import Figure

    import trainlab.report as report
    import trainlab.studies.optimizers_2d as o2

    # the study made small: the same code path to results.json, in about a second
    monkeypatch.setattr(o2, "QUICK_STEPS", 10)
    monkeypatch.setattr(o2, "_plot", lambda fn, best: Figure())
    monkeypatch.setattr(o2, "_zigzag", lambda: (Figure(), {}, ""))
    monkeypatch.setattr(report.Report, "write", lambda self, **k: None)

    real_open, real_fdopen = io.open, os.fdopen

    def fake_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        if isinstance(file, str | os.PathLike) and "results.json" in str(file) and "w" in mode:
            return FullDiskFile(f, 50)
        return f

    def fdopen(fd, mode="r", *a, **k):
        f = real_fdopen(fd, mode, *a, **k)
        if "results.json" in _fd_path(fd) and "w" in mode:
            return FullDiskFile(f, 50)
        return f

    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "fdopen", fdopen)
    out = tmp_path / "s"
    code, _, err = run_cli_catching(
        monkeypatch, capsys, "study", "optimizers-2d", "--quick", "--out", out
    )
    monkeypatch.setattr(io, "open", real_open)
    monkeypatch.setattr(os, "fdopen", real_fdopen)

    assert_user_error(code, err, "results.json")
    results = out / "results.json"
    if results.exists():  # whole or absent, never half
        json.loads(results.read_text())


def test_resume_of_a_run_folder_it_may_not_write_does_not_say_pass_another_path(
    tmp_path, monkeypatch, capsys
):
    # cli/app.py main: a PermissionError in `trainlab resume RUN` (another user's run, or files
    # made read-only: ``.lock`` cannot be opened for writing) prints "cannot use RUN/.lock:
    # Permission denied; pass another path", but resume has no path option to pass (same for
    # `trainlab report`). Right: one line saying the run folder cannot be written and the fix
    # that applies (its permissions, or resume a writable copy), as EROFS's hint does.
    import trainlab.train as train_mod

    out = tmp_path / "run"
    train_mod.train(
        small_config(train={"epochs": 1, "batch_size": 128}),
        out=out,
        progress=False,
        device="cpu",
    )
    cfg = out / "config.yaml"
    cfg.write_text(cfg.read_text().replace("epochs: 1", "epochs: 2"))
    real_open = os.open

    def no_write(path, flags, *a, **k):
        if str(path).endswith(".lock") and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", no_write)
    code, _, err = run_cli_catching(
        monkeypatch, capsys, "resume", out, "--device", "cpu", "--no-report"
    )
    monkeypatch.setattr(os, "open", real_open)
    assert_user_error(code, err, "Permission denied")
    assert "pass another path" not in err, err
