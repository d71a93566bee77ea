"""Mutation review mut45: the Ctrl-C/SIGTERM notes (errors.py, cli/app.py, runs.py, train.py,
pretrain/run.py, studies). Each test pins a contract that a one-line change of that code broke
without any earlier test noticing."""

from __future__ import annotations

import contextlib
import importlib
import signal

import pytest

from conftest import run_cli_catching
from trainlab.errors import in_chain, interrupt_note, on_interrupt


@pytest.fixture(autouse=True)
def _forget_notes():
    interrupt_note(clear=True)
    yield
    interrupt_note(clear=True)


def test_the_outermost_note_is_the_one_printed_even_when_an_inner_handler_said_it_first():
    """interrupt_note() is "the outermost on_interrupt note" (notes added inside out). An inner
    handler notes X, a middle one Y, the outer one X again (already attached: not added twice);
    the outermost, X, is what the CLI prints, not the middle Y."""
    with pytest.raises(KeyboardInterrupt) as info, on_interrupt("X"), on_interrupt("Y"):  # noqa: SIM117
        with on_interrupt("X"):
            raise KeyboardInterrupt
    assert info.value.__notes__ == ["X", "Y"]
    assert interrupt_note() == "X"


def test_in_chain_follows_the_context_an_error_was_raised_in():
    """in_chain: "among err and its causes and contexts (... the one it was raised while
    handling)": an error raised in an ``except KeyboardInterrupt`` block (no ``from``) is
    found to hide the interrupt."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("unexpected pos")  # noqa: B904 - a library's own error
    except RuntimeError as err:
        assert isinstance(in_chain(err, KeyboardInterrupt), KeyboardInterrupt)


def _app_module():
    return importlib.import_module("trainlab.cli.app")  # (trainlab.cli.app: the Typer)


def test_a_command_that_returns_130_is_an_interrupt_that_wrote_nothing(monkeypatch, capsys):
    """click returns Ctrl-C as 130 when not standalone: the CLI prints the one interrupt line
    (exit 130), and, the command not having finished (it returned 130, not 0), does not claim
    "the command had finished"."""
    app_mod = _app_module()
    monkeypatch.setattr(app_mod, "app", lambda **kw: 130)
    code, _, err = run_cli_catching(monkeypatch, capsys, "models")
    assert code == 130, err
    assert err.startswith("interrupted; "), err
    assert "the command had finished" not in err, err
    assert "run the command again" in err, err


def test_click_abort_is_an_interrupt(monkeypatch, capsys):
    """click's Abort (what it makes of a Ctrl-C at a prompt) exits as the interrupt: 130 and
    the one line, not click's "Aborted!" with status 1."""
    import typer

    app_mod = _app_module()

    def abort(**kw):
        raise typer.Abort()

    monkeypatch.setattr(app_mod, "app", abort)
    code, _, err = run_cli_catching(monkeypatch, capsys, "models")
    assert code == 130, err
    assert "interrupted; " in err and "Traceback" not in err, err


def test_an_interrupt_turned_into_an_unrelated_error_still_exits_as_the_interrupt(
    monkeypatch, capsys
):
    """The signal was recorded (``_sigterm.interrupted``): an error library code raised after
    it swallowed the KeyboardInterrupt (its chain no longer holds it) ends as the interrupt,
    exit 130 and one line, no traceback."""
    app_mod = _app_module()

    def command(**kw):
        with contextlib.suppress(KeyboardInterrupt):
            app_mod._sigterm._handle(signal.SIGINT, None)
        raise ValueError("cannot import name 'x' (partially initialized module)")

    monkeypatch.setattr(app_mod, "app", command)
    code, _, err = run_cli_catching(monkeypatch, capsys, "models")
    assert code == 130, err
    assert "Traceback" not in err and err.startswith("interrupted; "), err


def test_a_sigterm_after_a_ctrl_c_still_says_terminated(monkeypatch, capsys):
    """A SIGTERM recorded in the command is "terminated (SIGTERM)", exit 143, even when a
    Ctrl-C (that the code handled) came after it."""
    app_mod = _app_module()

    def command(**kw):
        with contextlib.suppress(KeyboardInterrupt):
            app_mod._sigterm._handle(signal.SIGTERM, None)
        app_mod._sigterm._handle(signal.SIGINT, None)

    monkeypatch.setattr(app_mod, "app", command)
    code, _, err = run_cli_catching(monkeypatch, capsys, "models")
    assert code == 143, err
    assert err.startswith("terminated (SIGTERM); "), err


def test_ctrl_c_as_the_lock_file_is_made_undoes_the_whole_claim(tmp_path, monkeypatch):
    """RunDir.create: "a Ctrl-C before the claim is whole: undone, so that the same path can be
    used again": the Ctrl-C lands as ``.lock`` was just created; neither ``.lock`` nor
    ``checkpoints/`` stays, the RunDir is not claimed, and the path can be created again."""
    import os

    from trainlab.runs import RunDir

    out = tmp_path / "run"
    real_close = os.close

    def close(fd):
        real_close(fd)
        if (out / ".lock").exists():
            raise KeyboardInterrupt  # (lands right after .lock is made)

    run = RunDir(out)
    with monkeypatch.context() as m:
        m.setattr(os, "close", close)
        with pytest.raises(KeyboardInterrupt):
            run.create()
    assert not run.claimed
    assert not (out / ".lock").exists() and not (out / "checkpoints").exists()
    again = RunDir(out).create()
    assert again.claimed and (out / "checkpoints").is_dir()
    again.unlock()


def test_ctrl_c_as_the_claim_is_recorded_leaves_the_run_dir_unclaimed(tmp_path):
    """A Ctrl-C that lands as ``claimed`` is set (the claim is then undone) leaves ``claimed``
    False: "whether create made this folder's claim", which the cleanup of train's
    ``_start_run`` and of pre-training trusts (a removed claim is not the caller's folder)."""
    from trainlab.runs import RunDir

    class Interrupted(RunDir):
        @property
        def claimed(self):
            return self.__dict__.get("_claimed", False)

        @claimed.setter
        def claimed(self, value):
            self.__dict__["_claimed"] = value
            if value:
                raise KeyboardInterrupt

    out = tmp_path / "run"
    run = Interrupted(out)
    with pytest.raises(KeyboardInterrupt):
        run.create()
    assert run.claimed is False
    assert not (out / ".lock").exists() and not (out / "checkpoints").exists()


def test_os_error_note_is_only_for_os_errors():
    """on_interrupt's ``os_error``: "what to run once an OSError inside (a full disk) is
    mended": another error (a bug, a user error) gets no such note."""
    with pytest.raises(ValueError) as info:  # noqa: SIM117
        with on_interrupt("n", os_error="free space, then resume"):
            raise ValueError("bad")
    assert not getattr(info.value, "__notes__", None)
    with pytest.raises(OSError) as info, on_interrupt("n", os_error=lambda: "resume it"):
        raise OSError(28, "No space left on device")
    assert info.value.__notes__ == ["resume it"]


def test_a_full_disk_inside_torch_save_raises_the_os_error_not_torchs_error(tmp_path, monkeypatch):
    """save_checkpoint: torch's zip writer raises its own "unexpected pos" RuntimeError over
    the ENOSPC that stopped its write(); what comes out is the OSError (the CLI's one line:
    "free space, then ..."), and no partial checkpoint stays."""
    import errno

    import torch

    from conftest import FullDiskFile
    from trainlab.runs import RunDir

    real = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, f, *a, **k: real(obj, FullDiskFile(f, 1000)))
    # (1000 bytes fit: torch's zip writer then raises RuntimeError "unexpected pos" over the
    # ENOSPC of its write())
    run = RunDir(tmp_path / "run").create()
    with pytest.raises(OSError) as info:
        run.save_checkpoint({"w": torch.zeros(1000)})
    assert info.value.errno == errno.ENOSPC
    assert list((tmp_path / "run" / "checkpoints").iterdir()) == []
    run.unlock()


def test_ctrl_c_as_train_returns_a_complete_run_says_it_is_complete(tmp_path, monkeypatch, capsys):
    """train(): a Ctrl-C once the run is complete (summary.json written; here as its writer
    lock is released) is noted as a complete run ("is complete ...: `trainlab report DIR`"),
    not as a run to resume; and what the note says works: `trainlab report DIR` writes it."""
    from conftest import small_config
    from trainlab.runs import RunDir
    from trainlab.train import train

    out = tmp_path / "run"
    real_unlock = RunDir.unlock

    def unlock(self):
        real_unlock(self)
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(RunDir, "unlock", unlock)
        with pytest.raises(KeyboardInterrupt) as info:
            train(small_config(train={"epochs": 1}), out=out, device="cpu", progress=False)
    assert (out / "summary.json").is_file()
    note = interrupt_note()
    assert note is not None and "is complete" in note and "resume" not in note, note
    assert info.value.__notes__[-1] == note
    assert "trainlab report" in note, note
    code, _, err = run_cli_catching(monkeypatch, capsys, "report", out)
    assert code == 0, err
    assert (out / "report.html").is_file()


def test_ctrl_c_in_a_renumbered_run_removes_its_own_folder_not_just_its_files(
    tmp_path, monkeypatch
):
    """A name trainlab chose that another run took (``runs/t`` exists, not empty) is
    renumbered (``t-2``); a Ctrl-C as its config.yaml is written removes what it made: ``t-2``
    goes (only a folder the user gave that existed before stays, emptied), ``t`` is untouched,
    and the note says nothing was made."""
    from conftest import small_config
    from trainlab.runs import RunDir
    from trainlab.train import ChosenPath, train

    taken = tmp_path / "t"
    taken.mkdir()
    (taken / "other.txt").write_text("another run's")
    real_write = RunDir.write_text

    def write_text(self, name, text):
        if name == "config.yaml":
            raise KeyboardInterrupt
        return real_write(self, name, text)

    with monkeypatch.context() as m:
        m.setattr(RunDir, "write_text", write_text)
        with pytest.raises(KeyboardInterrupt):
            train(small_config(), out=ChosenPath(taken), device="cpu", progress=False)
    assert not (tmp_path / "t-2").exists(), list((tmp_path / "t-2").iterdir())
    assert sorted(p.name for p in taken.iterdir()) == ["other.txt"]
    assert "no run directory was made" in (interrupt_note() or "")


@pytest.mark.filterwarnings("ignore")
def test_ctrl_c_in_a_run_given_its_own_module_says_to_resume_it_from_python(tmp_path, monkeypatch):
    """A run trained on a module passed in cannot be resumed by the CLI (it cannot rebuild
    the module): a Ctrl-C in it says to continue it from Python with the same module, and
    doing so works (the run completes)."""
    from torch import nn

    from conftest import ctrl_c_in_second_epoch, small_config
    from trainlab.train import resume, train

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        ctrl_c_in_second_epoch(m)
        with pytest.raises(KeyboardInterrupt):
            train(small_config(), out=out, device="cpu", model=module, progress=False)
    note = interrupt_note() or ""
    assert "from Python" in note and "trainlab.train.resume(" in note, note
    assert "model=the_same_module" in note and "`trainlab resume" not in note, note
    resume(out, model=module, progress=False)
    assert (out / "summary.json").is_file()


def test_a_full_disk_mid_training_says_to_free_space_then_resume(tmp_path, monkeypatch, capsys):
    """A full disk as the second epoch's checkpoint is written: one line, "free space ...,
    then continue the run with `trainlab resume DIR`" (what was written stays valid), and
    that command, once there is space, completes the run."""
    import torch

    from conftest import FullDiskFile, small_config
    from trainlab.config import dump_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text(dump_config(small_config(train={"epochs": 2, "batch_size": 256})))
    out = tmp_path / "run"
    real, calls = torch.save, []

    def save(obj, f, *a, **k):
        calls.append(1)
        return real(obj, FullDiskFile(f, 8) if len(calls) == 2 else f, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(torch, "save", save)
        code, _, err = run_cli_catching(
            monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report"
        )
    line = " ".join(err.split())
    assert code == 2 and "Traceback" not in err, err
    assert "free space" in line and f"trainlab resume {out}" in line, line
    code, _, err = run_cli_catching(monkeypatch, capsys, "resume", out, "--no-report")
    assert code == 0, err
    assert (out / "summary.json").is_file()


def test_pretrain_into_another_runs_folder_is_refused_and_leaves_it_whole(tmp_path):
    """run_pretrain into an --out that holds another run (not complete: config.yaml,
    population.json, a checkpoint) is refused (the folder is not claimed) and removes nothing
    of it: only what pre-training itself claimed is ever discarded."""
    from conftest import TINY_PRETRAIN
    from trainlab.errors import UserError
    from trainlab.pretrain.run import run_pretrain

    cfg = tmp_path / "p.yaml"
    cfg.write_text(TINY_PRETRAIN)
    other = tmp_path / "other"
    (other / "checkpoints").mkdir(parents=True)
    (other / "checkpoints" / "last.pt").write_bytes(b"weights")
    (other / "config.yaml").write_text("name: t\n")
    (other / "population.json").write_text("{}\n")
    before = sorted(str(p.relative_to(other)) for p in other.rglob("*"))
    with pytest.raises(UserError):
        run_pretrain(cfg, out=other, progress=False)
    assert sorted(str(p.relative_to(other)) for p in other.rglob("*")) == before


def test_ctrl_c_in_a_pretrain_run_renumbered_by_a_race_removes_its_own_folder(
    tmp_path, monkeypatch
):
    """run_pretrain with no --out: its default name is taken by another run as it claims it
    (renumbered to ``p-2``); a Ctrl-C before it is complete removes all it made, ``p-2``
    itself (a pre-training run does not resume: "was removed; run it again"), and leaves the
    other run's ``p`` as it was."""
    import trainlab.pretrain.run as pre
    import trainlab.train as train_mod
    from conftest import TINY_PRETRAIN

    cfg = tmp_path / "p.yaml"
    cfg.write_text(TINY_PRETRAIN)
    taken = tmp_path / "p"
    taken.mkdir()
    (taken / "other.txt").write_text("another run's")
    mine = tmp_path / "p-2"
    real_defaults = pre.kind_defaults

    def kind_defaults(*a, **k):
        if mine.exists():
            raise KeyboardInterrupt  # (lands once p-2 is claimed)
        return real_defaults(*a, **k)

    monkeypatch.setattr(train_mod, "default_run_dir", lambda name: train_mod.ChosenPath(taken))
    monkeypatch.setattr(pre, "kind_defaults", kind_defaults)
    with pytest.raises(KeyboardInterrupt):
        pre.run_pretrain(cfg, progress=False)
    assert not mine.exists(), list(mine.iterdir())
    assert sorted(p.name for p in taken.iterdir()) == ["other.txt"]
    assert "was removed; run it again" in (interrupt_note() or "")


def test_a_disk_error_as_pretrain_prints_its_result_says_to_report_the_complete_run(
    tmp_path, monkeypatch, capsys
):
    """`trainlab pretrain`: the run is complete (summary.json, report.html) when reading its
    summary for the printed result fails on the disk (EIO). Running the command again would be
    refused (its --out exists); the line says what works: `trainlab report DIR` (and it does)."""
    import errno
    from pathlib import Path

    import trainlab.pretrain.run as pre
    from conftest import TINY_PRETRAIN

    cfg = tmp_path / "p.yaml"
    cfg.write_text(TINY_PRETRAIN)
    out = tmp_path / "run"
    real_run, real_read = pre.run_pretrain, Path.read_text

    def read_text(self, *a, **k):
        if self.name == "summary.json":
            raise OSError(errno.EIO, "Input/output error")
        return real_read(self, *a, **k)

    def run_pretrain(*a, **k):
        path = real_run(*a, **k)
        monkeypatch.setattr(Path, "read_text", read_text)
        return path

    monkeypatch.setattr(pre, "run_pretrain", run_pretrain)
    code, _, err = run_cli_catching(monkeypatch, capsys, "pretrain", cfg, "--out", out)
    monkeypatch.setattr(Path, "read_text", real_read)
    line = " ".join(err.split())
    assert code == 2 and "Traceback" not in err, err
    assert f"trainlab report {out}" in line and "run it again" not in line, line
    code, _, err = run_cli_catching(monkeypatch, capsys, "report", out)
    assert code == 0, err
