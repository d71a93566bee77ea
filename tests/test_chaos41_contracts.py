"""Review chaos41: a Ctrl-C (KeyboardInterrupt) at any line of `trainlab train CONFIG --out DIR`.

Found by a tracer sweep (KeyboardInterrupt raised at the N-th line event in trainlab's source,
245 N of `train`, 120 of `resume`); each test raises the interrupt at one such point with
monkeypatch, so it is deterministic and fast. The contract: exit 130, no traceback, one line
"interrupted; <note>" that is true about the folder (resume it, report it, or run the command
again), and doing what it says works. Each test failed before its fix: the note said "run the
command again" for a folder that the same command then refused (a claim half made, a started
run, a complete one), or main() let the interrupt out as a traceback as it began or ended.
"""

from __future__ import annotations

from pathlib import Path

from conftest import main_catching_everything, raise_ctrl_c, run_cli_catching, small_config
from trainlab.config import dump_config


def _cfg(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(small_config(train={"epochs": 2, "batch_size": 256})))
    return path


def _train(monkeypatch, capsys, cfg: Path, out: Path):
    return run_cli_catching(
        monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report"
    )


def _follow_the_note(monkeypatch, capsys, cfg: Path, out: Path, line: str) -> None:
    """Do what the note says; it must work."""
    if "trainlab resume" in line:
        code, _, err = run_cli_catching(
            monkeypatch, capsys, "resume", out, "--device", "cpu", "--no-report"
        )
        assert code == 0, ("the note said resume, which fails", line, err[-800:])
    elif "trainlab report" in line:
        assert "is complete" in line, line
        code, _, err = run_cli_catching(monkeypatch, capsys, "report", out)
        assert code == 0, ("the note said report, which fails", line, err[-800:])
        assert (out / "report.html").is_file()
    else:
        assert "run the command again" in line or "run it again" in line, line
        code, _, err = _train(monkeypatch, capsys, cfg, out)
        assert code == 0, ("the note said run the command again, which is refused", line, err)


def test_ctrl_c_while_the_run_folder_is_claimed_leaves_the_path_free_to_run_again(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C inside ``RunDir.create`` (runs.py ~261-273) after ``checkpoints/`` is made and
    before ``.lock`` is / ``create`` returns. The user saw "interrupted; no run directory was
    made yet; run the command again", but DIR is left holding ``checkpoints/`` (and maybe
    ``.lock``): running the command again is refused ("run directory ... already exists; pass
    a new --out"). ``_start_run``'s cleanup (``discard``) only covers what follows ``create``."""
    cfg, out = _cfg(tmp_path), tmp_path / "run"
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **k):
        real_mkdir(self, *a, **k)
        if self.name == "checkpoints" and self.parent == out:
            raise KeyboardInterrupt  # (lands right after the claim is made)

    with monkeypatch.context() as m:
        m.setattr(Path, "mkdir", mkdir)
        code, _, err = _train(monkeypatch, capsys, cfg, out)
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    _follow_the_note(monkeypatch, capsys, cfg, out, line)


def test_ctrl_c_between_start_run_and_fit_says_to_resume_the_started_run(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C after ``_start_run`` has written config.yaml and population.json but before
    ``_noted_fit`` enters its ``on_interrupt`` (train.py:1674 the ``with`` exit, 1676-1678,
    train.py:2073-2081 ``resume_command``/``shell_path``). The user saw "interrupted; nothing
    was written to continue from; run the command again"; but DIR is a started run (it
    resumes: `trainlab resume DIR` works) and the same command is refused ("already exists;
    pass a new --out, or `trainlab resume DIR` to continue it")."""
    import trainlab.train as train_mod

    cfg, out = _cfg(tmp_path), tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(train_mod, "_noted_fit", raise_ctrl_c)
        code, _, err = _train(monkeypatch, capsys, cfg, out)
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    _follow_the_note(monkeypatch, capsys, cfg, out, line)


def test_ctrl_c_after_the_run_completes_before_its_report_says_to_report_it(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C after ``train()`` wrote summary.json (train.py:1681-1682 its ``finally``/return,
    cli/core.py:62-67 in ``train_cmd``, cli/core.py:128 before ``_finish``'s ``reporting``).
    The user saw "interrupted; nothing was written to continue from; run the command again";
    the run is complete and the same command is refused ("already exists; pass a new --out;
    the run ... is complete: `trainlab report DIR` ...")."""
    import trainlab.cli.core as core

    cfg, out = _cfg(tmp_path), tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(core, "_finish", raise_ctrl_c)
        code, _, err = _train(monkeypatch, capsys, cfg, out)
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "summary.json").is_file()
    _follow_the_note(monkeypatch, capsys, cfg, out, line)


def test_ctrl_c_as_main_starts_is_one_line(tmp_path, monkeypatch, capsys):
    """Ctrl-C in ``main()``'s prologue (the stream ``reconfigure`` loop, ``_sigterm.__enter__``
    as the SIGTERM handler is installed): it was before the ``try`` of main/_main, so the
    KeyboardInterrupt escaped: a traceback, not "interrupted; ...; run the command again"."""
    import importlib

    app_mod = importlib.import_module("trainlab.cli.app")

    cfg, out = _cfg(tmp_path), tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(type(app_mod._sigterm), "__enter__", raise_ctrl_c)
        code, err = main_catching_everything(
            monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu", "--no-report"
        )
    assert "run the command again" in " ".join(err.split()), err
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert not out.exists()


def test_ctrl_c_between_the_claim_and_the_writer_lock_leaves_the_path_free(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C right after ``RunDir.create`` returned the claimed folder (``checkpoints/``,
    ``.lock``), before ``_start_run`` took its writer lock: the claim is removed with the rest
    of the half-made run, so "run the command again" works."""
    from trainlab.runs import RunDir

    cfg, out = _cfg(tmp_path), tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(RunDir, "lock", raise_ctrl_c)
        code, _, err = _train(monkeypatch, capsys, cfg, out)
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert "run the command again" in line, line
    _follow_the_note(monkeypatch, capsys, cfg, out, line)


def test_ctrl_c_while_an_existing_run_is_refused_does_not_speak_for_that_run(
    tmp_path, monkeypatch, capsys
):
    """``--out`` naming another, complete run is refused; a Ctrl-C while the refusal is made
    must not say that run is this command's ("the run ... is complete but has no report yet")
    nor remove anything of it."""
    from trainlab.runs import RunDir

    cfg, out = _cfg(tmp_path), tmp_path / "run"
    code, _, err = _train(monkeypatch, capsys, cfg, out)
    assert code == 0, err
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with monkeypatch.context() as m:
        m.setattr(RunDir, "writer", raise_ctrl_c)  # (asked while the refusal is worded)
        code, _, err = _train(monkeypatch, capsys, cfg, out)
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert "no run directory was made" in line and "complete" not in line, line
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
