"""Review chaos42: a Ctrl-C (KeyboardInterrupt) at any line of `trainlab train` / `resume` /
`pretrain` / `report`, swept again after the chaos41 fixes (48c39c4, 88c4808).

Found by the tracer sweep in /tmp/chaos42 (KeyboardInterrupt raised at the N-th line event in
trainlab's source; ~200 N of `train`, ~100 each of `resume`, `pretrain`, `report`, plus dense
windows around the claim and the report). Each test raises the interrupt at one such point with
monkeypatch, so it is deterministic and fast. The contract: exit 130, no traceback, one line
"interrupted; <note>" that is true about the folder, and doing what it says works. A pre-training
run does not resume: interrupted, it must be removed (note: run it again), or, complete, the note
must say so. Every test here failed on 88c4808 (fixed after): the note said "run the command
again" for a folder that the same command then refuses ("run directory ... already exists").
"""

from __future__ import annotations

import pathlib
from pathlib import Path

from conftest import (
    TINY_PRETRAIN,
    config_file,
    main_catching_everything,
    raise_ctrl_c,
    run_cli_catching,
    small_config,
)
from trainlab.config import dump_config


def _cfg(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(small_config(train={"epochs": 2, "batch_size": 256})))
    return path


def _train_args(cfg: Path, out: Path) -> tuple:
    return ("train", cfg, "--out", out, "--device", "cpu", "--no-report")


def _pretrain_args(cfg: Path, out: Path) -> tuple:
    return ("pretrain", cfg, "--out", out, "--device", "cpu")


def _line(err: str) -> str:
    return " ".join(err.split())


def _follow_the_note(monkeypatch, capsys, args: tuple, out: Path, line: str) -> None:
    """Do what the note says (``args``: the interrupted command); it must work."""
    assert line.startswith("interrupted; "), line
    if "trainlab resume" in line:
        assert args[0] != "pretrain", ("a pre-training run does not resume", line)
        code, _, err = run_cli_catching(
            monkeypatch, capsys, "resume", out, "--device", "cpu", "--no-report"
        )
        assert code == 0, ("the note said resume, which fails", line, err[-800:])
    elif "trainlab report" in line:
        code, _, err = run_cli_catching(monkeypatch, capsys, "report", out)
        assert code == 0, ("the note said report, which fails", line, err[-800:])
        assert (out / "report.html").is_file()
    elif "is complete; its report: " in line:  # nothing to do: it is there
        assert (out / "summary.json").is_file() and (out / "report.html").is_file(), line
        assert line.endswith(str(out / "report.html")), line
    elif "the command had finished" in line:  # nothing was stopped
        assert (out / "summary.json").is_file(), line
    else:
        assert "run the command again" in line or "run it again" in line, line
        code, _, err = run_cli_catching(monkeypatch, capsys, *args)
        assert code == 0, ("the note said run the command again, which is refused", line, err)


def test_ctrl_c_as_train_cmd_enters_reporting_says_the_run_is_complete(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C after ``train()`` returned a complete run and before ``train_cmd``'s
    ``with reporting(result.run_dir)`` is entered (cli/core.py:61: the note is built by
    errors.py:193-203 ``reporting``/``shell_path``/``unreported_run`` and on_interrupt's
    first line :177, all outside any on_interrupt; also train.py:1698, train()'s ``with`` as it
    exits). Sweep: N=20786-20800, 15 consecutive line events. The user saw "interrupted;
    nothing was written to continue from; run the command again"; the run is complete and the
    same command is refused ("already exists; pass a new --out; the run ... is complete")."""
    import trainlab.cli.core as core

    cfg, out = _cfg(tmp_path), tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(core, "reporting", raise_ctrl_c)  # (its first call: cli/core.py:61)
        code, _, err = run_cli_catching(monkeypatch, capsys, *_train_args(cfg, out))
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "summary.json").is_file()
    _follow_the_note(monkeypatch, capsys, _train_args(cfg, out), out, _line(err))


def test_ctrl_c_in_main_after_train_finished_says_what_is_true(tmp_path, monkeypatch, capsys):
    """Ctrl-C in ``main()`` after the command returned (cli/app.py:342 ``if isinstance(code,
    int)``, :235 ``_guarded_main``, :259 ``_warnings_as_lines``' finally, :208-210
    ``_SigtermAsInterrupt.__exit__``; also cli/core.py:61 as its ``with`` exits): the last ~10
    line events of every `train` and `pretrain`. chaos41 made it one line, but its note is
    ``_exit_interrupted``'s default "nothing was written to continue from; run the command
    again": the run is complete, and the same command is refused (already exists)."""
    import importlib

    app_mod = importlib.import_module("trainlab.cli.app")
    cfg, out = _cfg(tmp_path), tmp_path / "run"
    real = app_mod._main

    def then_ctrl_c():
        real()
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(app_mod, "_main", then_ctrl_c)
        code, err = main_catching_everything(monkeypatch, capsys, *_train_args(cfg, out))
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "summary.json").is_file()
    _follow_the_note(monkeypatch, capsys, _train_args(cfg, out), out, _line(err))


def test_ctrl_c_between_pretrain_claim_and_its_cleanup_leaves_the_path_free(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C after ``RunDir.create`` returned in ``run_pretrain`` and before
    ``_discarded_unless_done`` is entered (pretrain/run.py:870 ``existed = ...``, :871
    ``(run.path / "checkpoints").rmdir()``, :873 the ``with``, :798 its ``try``; sweep
    N=1828-1831). The user saw "interrupted; nothing was written to continue from; run the
    command again", but DIR holds ``.lock`` (and ``checkpoints/``): running it again is refused
    ("run directory ... already exists; pass a new --out (or move the old one away)")."""
    cfg = config_file(tmp_path, TINY_PRETRAIN, "p.yaml")
    out = tmp_path / "run"
    real_rmdir = pathlib.Path.rmdir

    def rmdir(self, *a, **k):
        if self == out / "checkpoints":  # run_pretrain's rmdir of the training-run claim
            raise KeyboardInterrupt
        return real_rmdir(self, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(pathlib.Path, "rmdir", rmdir)
        code, _, err = run_cli_catching(monkeypatch, capsys, *_pretrain_args(cfg, out))
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    _follow_the_note(monkeypatch, capsys, _pretrain_args(cfg, out), out, _line(err))


def test_ctrl_c_as_pretrain_enters_reporting_says_the_run_is_complete(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C after summary.json is written and ``_discarded_unless_done`` exited, before
    ``with reporting(run.path)`` is entered (pretrain/run.py:1004-1006, errors.py:193-203 and
    :177; sweep N=4799-4814 and 4816-4818). The user saw "interrupted; nothing was written to
    continue from; run the command again"; the complete run stays and the same command is
    refused (already exists); the true note is `trainlab report DIR`."""
    import trainlab.pretrain.run as prun

    cfg = config_file(tmp_path, TINY_PRETRAIN, "p.yaml")
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(prun, "reporting", raise_ctrl_c)
        code, _, err = run_cli_catching(monkeypatch, capsys, *_pretrain_args(cfg, out))
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "summary.json").is_file()
    _follow_the_note(monkeypatch, capsys, _pretrain_args(cfg, out), out, _line(err))


def test_ctrl_c_as_pretrain_cmd_prints_its_result_says_the_run_is_complete(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C after ``run_pretrain`` returned the complete, reported run, while
    ``pretrain_cmd`` reads summary.json and prints "run directory: ..." (cli/pretrain.py:42-50,
    console.py:38-39/102-103 under it; sweep N=6197-6205): no on_interrupt covers it (train's
    ``_finish`` is under ``reporting``). The user saw "interrupted; nothing was written to
    continue from; run the command again"; the same command is refused (already exists)."""
    import trainlab.cli.pretrain as pcli

    cfg = config_file(tmp_path, TINY_PRETRAIN, "p.yaml")
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(pcli, "escape", raise_ctrl_c)  # (cli/pretrain.py:50, the last print's path)
        code, _, err = run_cli_catching(monkeypatch, capsys, *_pretrain_args(cfg, out))
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "report.html").is_file()
    _follow_the_note(monkeypatch, capsys, _pretrain_args(cfg, out), out, _line(err))
