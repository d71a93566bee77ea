"""Crash safety of what trainlab writes: a failure (disk full, an I/O error, a concurrent
process) never loses or corrupts data already written, and the CLI reports it as one line."""

from __future__ import annotations

import builtins
import errno
import importlib
import os
from pathlib import Path

import pytest
import torch

from conftest import FullDiskFile, assert_user_error, run_cli_catching, small_config
from trainlab.config import dump_config
from trainlab.runs import RunDir

train_mod = importlib.import_module("trainlab.train")


def _cfg(epochs: int = 3):
    return small_config(
        train={"epochs": epochs, "batch_size": 128},
        population={"seeds": [0, 1]},
        model={"dropout": 0.1},
    )


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # pragma: no cover - not Linux
        pytest.skip("needs /proc/self/fd")


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".trainlab-tmp")]


def test_disk_full_while_writing_a_checkpoint_is_one_line_and_the_run_still_resumes(
    tmp_path, monkeypatch, capsys
):
    """A disk that fills up while ``trainlab train`` writes its second checkpoint (``fsync``
    fails with ENOSPC, as a full disk makes it) must leave the epoch-1 checkpoint whole, no
    temporary file, a parseable metrics.jsonl, and a run that ``resume`` continues to the same
    final weights as an uninterrupted run; and the CLI must say so in one line with exit 2,
    naming the run's file, not print a traceback. Disk full is the most common I/O failure of
    long training jobs; today the OSError from ``os.fsync``/``write`` carries no filename, so
    ``main()`` re-raises it and the user gets a raw traceback (atomic.py / runs.py writes, and
    cli/app.py ``main``)."""
    ref = train_mod.train(_cfg(), out=tmp_path / "ref", progress=False, device="cpu")
    ref_state = torch.load(ref.run_dir / "checkpoints" / "last.pt", weights_only=True)

    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(dump_config(_cfg()))
    out = tmp_path / "run"
    real_fsync, seen = os.fsync, []

    def fsync(fd):
        target = _fd_path(fd)
        if "last.pt" in target and target.endswith(".trainlab-tmp"):
            seen.append(target)
            if len(seen) == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    code, _, err = run_cli_catching(
        monkeypatch, capsys, "train", cfg_path, "--out", out, "--device", "cpu", "--no-report"
    )
    monkeypatch.setattr(os, "fsync", real_fsync)

    # the data already written is intact ...
    assert _temps(out) == []
    state = RunDir(out).load_checkpoint()
    assert state["epoch"] == 1
    assert {r["epoch"] for r in RunDir(out).read_metrics()} >= {1}
    # ... and the run resumes to the uninterrupted run's weights
    train_mod.resume(out, progress=False, device="cpu")
    final = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    for name, t in ref_state["population"].items():
        assert torch.equal(final["population"][name], t), name
    # the CLI error: one line, exit 2, naming where it could not write
    assert_user_error(code, err, str(out))
    assert "No space left on device" in err


def test_a_failed_rename_during_resume_names_the_real_file_not_a_deleted_temporary(
    tmp_path, monkeypatch, capsys
):
    """When resume's rewrite of ``metrics.jsonl`` fails at the rename (an I/O error on a
    network disk), metrics.jsonl must stay whole, no temporary file may remain, and the one-line
    error must name ``metrics.jsonl``, the file the user can check. Today it names the hidden
    temporary file ``.metrics.jsonl.<random>.trainlab-tmp`` that atomic_open has just deleted,
    and tells the user to "pass another path", which resume has no option for (atomic.py
    ``atomic_open`` re-raises os.replace's OSError whose ``filename`` is the temp file;
    cli/app.py ``main`` prints ``err.filename``)."""
    out = tmp_path / "run"
    train_mod.train(_cfg(epochs=1), out=out, progress=False, device="cpu")
    before = (out / "metrics.jsonl").read_bytes()
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if Path(dst).name == "metrics.jsonl":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src), None, str(dst))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    code, _, err = run_cli_catching(
        monkeypatch, capsys, "resume", out, "--device", "cpu", "--no-report"
    )
    monkeypatch.setattr(os, "replace", real_replace)

    assert (out / "metrics.jsonl").read_bytes() == before
    assert _temps(out) == []
    assert train_mod.resume(out, progress=False, device="cpu").summary["epochs"] == 1
    assert (out / "metrics.jsonl").read_bytes() == before  # the same rows, once each
    assert_user_error(code, err, "metrics.jsonl")
    assert ".trainlab-tmp" not in err, err


def test_two_runs_started_at_once_with_the_default_name_both_get_a_folder(tmp_path, monkeypatch):
    """``train(config)`` without ``out`` writes ``runs/<name>``, or ``runs/<name>-2``, ``-3``,
    ... if taken (``default_run_dir``: "never an existing folder"). When two runs of the same
    config start at once (two shells, a job array), the other process can create
    ``runs/<name>`` between this one picking the name and creating it; this run must then take
    the next number, not fail with "run directory runs/t already exists; pass a new --out" to a
    user who never passed --out. (The worse interleaving, both passing ``create``'s emptiness
    check before either mkdir, makes both write ``config.yaml``/``population.json`` into one
    folder.) The name is checked and the folder made in two steps (train.py
    ``default_run_dir`` + runs.py ``RunDir.create`` with ``exist_ok=True``)."""
    monkeypatch.chdir(tmp_path)
    real = train_mod.default_run_dir

    def racing(name, *a, **k):
        path = real(name, *a, **k)
        # the other `trainlab train` of the same config wins the race for this name now
        other = RunDir(path).create()
        other.write_text("config.yaml", "name: t\n")
        return path

    monkeypatch.setattr(train_mod, "default_run_dir", racing)
    result = train_mod.train(_cfg(epochs=1), progress=False, device="cpu")
    assert result.run_dir is not None and result.run_dir.resolve() != (tmp_path / "runs" / "t")
    assert (tmp_path / "runs" / "t" / "config.yaml").read_text() == "name: t\n"  # untouched


def test_a_plot_that_fails_midway_keeps_the_previous_png_and_is_one_line(
    tmp_path, monkeypatch, capsys
):
    """``trainlab schedule CONFIG --plot --out s.png`` over an existing ``s.png``: if writing
    the new PNG fails midway (disk full), the previous plot must still be there, whole, and
    the CLI must print one line with exit 2. Today the figure is saved straight onto the target
    (``fig.savefig(out)`` in cli/optim.py, also ``lr-find``), so the old PNG is truncated to a
    few bytes of the new one, and the filename-less ENOSPC error escapes as a traceback.
    Writing to a temporary file (or rendering to memory) and renaming it over the target, as
    trainlab does for its run files, keeps the old plot."""
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(dump_config(_cfg()))
    png = tmp_path / "s.png"
    old = b"\x89PNG\r\n\x1a\n the previous plot"
    png.write_bytes(old)
    real_open = builtins.open

    def fake_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        writes = isinstance(file, str | os.PathLike) and any(c in mode for c in "wax+")
        if writes and Path(file).parent == tmp_path:  # whatever is written beside s.png
            return FullDiskFile(f, 8)  # the first 8 bytes reach the disk
        return f

    monkeypatch.setattr(builtins, "open", fake_open)
    real_fdopen = os.fdopen

    def fdopen(fd, mode="r", *a, **k):
        f = real_fdopen(fd, mode, *a, **k)
        if Path(_fd_path(fd)).parent == tmp_path and any(c in mode for c in "wax+"):
            return FullDiskFile(f, 8)  # the first 8 bytes reach the disk
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)
    code, _, err = run_cli_catching(
        monkeypatch, capsys, "schedule", cfg_path, "--plot", "--out", png
    )
    monkeypatch.setattr(builtins, "open", real_open)
    monkeypatch.setattr(os, "fdopen", real_fdopen)

    assert png.read_bytes() == old
    assert_user_error(code, err, "s.png")


def test_a_run_claiming_a_folder_never_writes_into_one_another_run_just_claimed(
    tmp_path, monkeypatch
):
    """The worse interleaving of two runs started at once with the default name: both pass
    ``RunDir.create``'s "missing or empty" check, then the other run makes the folder and
    writes its ``config.yaml`` and ``population.json``, then this run's ``mkdir(exist_ok=True)``
    succeeds too. This run must then refuse the folder (or take ``runs/t-2``), never overwrite
    the other run's files and train into its folder: the other run's ``config.yaml`` would no
    longer describe its checkpoint, so its resume and report would be wrong. Claiming the folder
    with an ``exist_ok=False`` mkdir (the check and the claim in one atomic step) fixes it
    (runs.py ``RunDir.create``, train.py ``default_run_dir``)."""
    import trainlab.runs as runs_mod

    monkeypatch.chdir(tmp_path)
    real_make_folder, raced = runs_mod.make_folder, []

    def make_folder(path, *a, **k):
        if not raced:  # the other process, between our emptiness check and our first mkdir
            run = path.parent if path.name == "checkpoints" else path
            raced.append(run)
            real_make_folder(run / "checkpoints", *a, **k)
            (run / "config.yaml").write_text("name: the other run\n")
            (run / "population.json").write_text('{"k": 9, "models": []}\n')
        return real_make_folder(path, *a, **k)

    monkeypatch.setattr(runs_mod, "make_folder", make_folder)
    try:
        result = train_mod.train(_cfg(epochs=1), progress=False, device="cpu")
    except Exception:  # noqa: BLE001 - refusing the folder is a fine outcome
        result = None
    other = raced[0]
    assert (other / "config.yaml").read_text() == "name: the other run\n"
    assert (other / "population.json").read_text() == '{"k": 9, "models": []}\n'
    assert result is None or result.run_dir.resolve() != other.resolve()
