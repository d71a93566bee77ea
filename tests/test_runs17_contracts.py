"""Review runs17: run directories, resume and report (defects found by the review)."""

from __future__ import annotations

import errno
import os

import pytest

from conftest import FullDiskFile, assert_user_error, run_cli, small_config
from trainlab.config import dump_config
from trainlab.errors import UserError
from trainlab.train import resume, train


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # pragma: no cover - not Linux
        pytest.skip("needs /proc/self/fd")


def test_disk_full_while_torch_save_writes_the_checkpoint_is_one_line(
    tmp_path, monkeypatch, capsys
):
    # runs.py save_checkpoint: ENOSPC inside torch.save's write() is masked by torch's
    # "RuntimeError: [enforce fail at inline_container.cc] unexpected pos" -> a traceback (exit 1);
    # right: the OSError (named after checkpoints/last.pt) reaches the CLI: one line, exit 2
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(dump_config(small_config(train={"epochs": 2, "batch_size": 128})))
    out = tmp_path / "run"
    real_fdopen = os.fdopen

    def fdopen(fd, mode="r", *a, **k):
        f = real_fdopen(fd, mode, *a, **k)
        if "last.pt" in _fd_path(fd) and "w" in mode:
            return FullDiskFile(f, 100)  # (a 40 KiB tmpfs: full in the first checkpoint)
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)
    try:
        code, _, err = run_cli(
            monkeypatch, capsys, "train", cfg_path, "--out", out, "--device", "cpu", "--no-report"
        )
    except Exception as exc:  # noqa: BLE001 - what the shell would show as a traceback
        code, err = 1, f"Traceback (most recent call last):\n{type(exc).__name__}: {exc}"
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert_user_error(code, err, "last.pt")
    assert "No space left on device" in err
    assert not list(out.rglob("*.trainlab-tmp"))


def test_resume_refuses_a_metrics_file_that_lost_the_checkpointed_epochs(tmp_path):
    # train.py resume: metrics.jsonl missing the epochs the checkpoint holds (deleted, or cut
    # at a line) is continued silently -> a "complete" run whose metrics.jsonl (and report
    # curves) lack epochs 1..2; right: a one-line UserError naming metrics.jsonl, nothing changed
    out = tmp_path / "run"
    train(
        small_config(train={"epochs": 2, "batch_size": 256}), out=out, progress=False, device="cpu"
    )
    cfg = out / "config.yaml"
    cfg.write_text(cfg.read_text().replace("epochs: 2", "epochs: 3"))  # train it longer
    (out / "metrics.jsonl").unlink()
    with pytest.raises(UserError, match="metrics.jsonl"):
        resume(out, progress=False, device="cpu", on_note=lambda m: None)
    assert (out / "summary.json").is_file()  # nothing removed by the refused resume


def test_a_resume_refused_for_a_corrupt_metrics_line_leaves_summary_json(tmp_path):
    # train.py resume: summary.json is unlinked before metrics.jsonl is read, so a resume that
    # then refuses ("metrics.jsonl line 2 is corrupt") has already deleted the run's summary;
    # right: check the files first, and a refused resume changes nothing in the run folder
    out = tmp_path / "run"
    train(
        small_config(train={"epochs": 1, "batch_size": 256}, population={"seeds": [0, 1]}),
        out=out,
        progress=False,
        device="cpu",
    )
    cfg = out / "config.yaml"
    cfg.write_text(cfg.read_text().replace("epochs: 1", "epochs: 2"))  # train it longer
    lines = (out / "metrics.jsonl").read_text().splitlines(keepends=True)
    (out / "metrics.jsonl").write_text(lines[0] + "garbage\n" + "".join(lines[1:]))
    summary = (out / "summary.json").read_bytes()
    with pytest.raises(UserError, match="metrics.jsonl line 2"):
        resume(out, progress=False, device="cpu", on_note=lambda m: None)
    assert (out / "summary.json").is_file() and (out / "summary.json").read_bytes() == summary


def test_a_read_only_file_system_is_not_told_to_free_space(tmp_path, monkeypatch, capsys):
    # cli/app.py: EROFS shared ENOSPC's hint "free space (or fix the disk)"; a read-only mount
    # has nothing to free: the fix is a writable folder
    import trainlab.train

    def read_only(*a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "ro" / "config.yaml"))

    monkeypatch.setattr(trainlab.train, "train", read_only)
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(dump_config(small_config()))
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg_path, "--out", tmp_path / "ro")
    assert_user_error(code, err, "Read-only file system")
    assert "free space" not in err and "writable folder" in err


def test_report_of_a_study_killed_before_its_end_says_so(tmp_path, monkeypatch, capsys):
    # trainlab report on a study folder holding only cells/ (killed, SIGTERM) told the user to
    # "pass the folder that `trainlab ... study ...` wrote", which they did
    study = tmp_path / "study"
    (study / "cells" / "a").mkdir(parents=True)
    code, _, err = run_cli(monkeypatch, capsys, "report", study)
    assert_user_error(code, err, "stopped before its end")
