"""Review sigterm40: a Ctrl-C (or a batch system's SIGTERM, which trainlab raises as one) that
lands while ``torch.save`` writes a checkpoint.

Found by a flaky run of ``test_concurrency_contracts.py::test_sigterm_stops_a_run_like_ctrl_c_
and_says_how_to_resume`` (1 in 40 in a loop): the signal handler's KeyboardInterrupt is raised
inside torch's zip writer (its ``write()`` callback into the file), and torch's writer then
raises ``RuntimeError: [enforce fail at inline_container.cc] unexpected pos`` over it while it
closes. The run said "terminated (SIGTERM); nothing was written to continue from; run the
command again": wrong (the run folder resumes) and it loses the run's name.
"""

from __future__ import annotations

import os

import pytest
import torch

from conftest import FullDiskFile, run_cli_catching, small_config
from trainlab.config import dump_config
from trainlab.runs import RunDir
from trainlab.train import resume, train


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # pragma: no cover - not Linux
        pytest.skip("needs /proc/self/fd")


def _interrupt_checkpoint(monkeypatch, nth: int) -> None:
    """The ``nth`` write of ``checkpoints/last.pt`` is interrupted after its first 100 bytes."""
    real_fdopen, opened = os.fdopen, []

    def fdopen(fd, mode="r", *a, **k):
        f = real_fdopen(fd, mode, *a, **k)
        if "last.pt" in _fd_path(fd) and "w" in mode:
            opened.append(1)
            if len(opened) == nth:
                return FullDiskFile(f, 100, error=KeyboardInterrupt)
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)


def test_save_checkpoint_interrupted_inside_torch_save_raises_the_interrupt(tmp_path, monkeypatch):
    run = RunDir(tmp_path / "r").create()
    _interrupt_checkpoint(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):  # not torch's "unexpected pos" RuntimeError
        run.save_checkpoint({"w": torch.zeros(1000)})
    assert not run.checkpoint_path.exists()
    assert not list(run.path.rglob("*.trainlab-tmp"))


def test_ctrl_c_while_a_checkpoint_is_written_says_how_to_resume_and_the_run_resumes(
    tmp_path, monkeypatch, capsys
):
    cfg = small_config(train={"epochs": 2, "batch_size": 256})
    ref = train(cfg, out=tmp_path / "ref", progress=False, device="cpu")
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(dump_config(cfg))
    out = tmp_path / "run"

    with monkeypatch.context() as m:
        _interrupt_checkpoint(m, 2)  # the second epoch's checkpoint
        code, _, err = run_cli_catching(
            monkeypatch, capsys, "train", cfg_path, "--out", out, "--device", "cpu", "--no-report"
        )
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert f"trainlab resume {out}" in line or "trainlab resume '" in line, line
    assert "nothing was written" not in line, line
    # what was written before stays whole: epoch 1's checkpoint, no temporary file
    assert not list(out.rglob("*.trainlab-tmp"))
    assert RunDir(out).load_checkpoint()["epoch"] == 1
    resume(out, progress=False, device="cpu")
    got = torch.load(out / "checkpoints" / "last.pt", weights_only=True)["population"]
    want = torch.load(ref.run_dir / "checkpoints" / "last.pt", weights_only=True)["population"]
    assert got.keys() == want.keys()
    for name, t in want.items():
        assert torch.equal(got[name], t), name


def test_an_error_raised_over_a_ctrl_c_is_noted_as_the_ctrl_c():
    """Library code that turns a Ctrl-C into an error of its own while it cleans up (torch's
    zip writer, above; Python's ``__set_name__`` wraps one in a RuntimeError) must not lose
    the note of how to continue: the CLI prints it for an error with a KeyboardInterrupt in
    its chain, as for the interrupt."""
    from trainlab.errors import interrupt_note, on_interrupt

    interrupt_note(clear=True)
    with pytest.raises(RuntimeError) as caught, on_interrupt("continue the run with X"):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("unexpected pos") from None  # (the context is kept)
    assert interrupt_note(clear=True) == "continue the run with X"
    assert "continue the run with X" in caught.value.__notes__
    with pytest.raises(RuntimeError), on_interrupt("not this one"):  # a plain error: no note
        raise RuntimeError("boom")
    assert interrupt_note() is None


def _ctrl_c_under_an_error(*args, **kwargs):
    """A stand-in for library code that a Ctrl-C interrupts and that raises its own error over
    the interrupt while it cleans up (torch's zip writer: "unexpected pos")."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos") from None


def test_a_study_whose_cell_raised_an_error_over_a_ctrl_c_says_its_folder_is_incomplete(
    tmp_path, monkeypatch, capsys
):
    """As Ctrl-C itself (test_concurrency_contracts): the study's line, not the cell's
    "continue the run with `trainlab resume <cell>`" (a study does not resume)."""
    from trainlab.train import Trainer

    out = tmp_path / "my study"
    with monkeypatch.context() as m:
        m.setattr(Trainer, "fit", _ctrl_c_under_an_error)
        code, _, err = run_cli_catching(
            monkeypatch, capsys, "study", "init", "--quick", "--out", out
        )
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    line = " ".join(err.split())
    assert "trainlab resume" not in line, line
    assert "'" + str(out) + "'" in line and "incomplete" in line, line


def test_a_pretrain_whose_fit_raised_an_error_over_a_ctrl_c_says_its_folder_was_removed(
    tmp_path, monkeypatch, capsys
):
    from conftest import TINY_PRETRAIN, config_file
    from trainlab.pretrain.population import RBMPopulation

    cfg = config_file(tmp_path, TINY_PRETRAIN, "p.yaml")
    out = tmp_path / "D"
    with monkeypatch.context() as m:
        m.setattr(RBMPopulation, "fit", _ctrl_c_under_an_error)
        code, _, err = run_cli_catching(monkeypatch, capsys, "pretrain", cfg, "--out", out)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    line = " ".join(err.split())
    assert "removed" in line and "trainlab resume" not in line, line
    assert not out.exists()
