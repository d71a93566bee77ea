"""Review chaos43: Ctrl-C notes where no handler of the command's own is (found by reading the
chaos41/42 fixes): as a diagnose run's verdict is made, in a study (an error raised over the
interrupt in a cell; the interrupt right after the study's report was written)."""

from __future__ import annotations

import importlib

from conftest import raise_ctrl_c, run_cli_catching, small_config
from trainlab.config import dump_config


def _line(err: str) -> str:
    return " ".join(err.split())


def _interrupted_line(monkeypatch, capsys, target, name: str, patched, *args) -> str:
    """``trainlab ARGS`` with ``target.name`` replaced by ``patched`` (which raises the
    interrupt): it exits 130 with no traceback; its last words, whitespace folded."""
    with monkeypatch.context() as m:
        m.setattr(target, name, patched)
        code, _, err = run_cli_catching(monkeypatch, capsys, *args)
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    return _line(err)


def test_ctrl_c_as_a_diagnose_run_is_judged_says_the_run_is_complete(tmp_path, monkeypatch, capsys):
    """``trainlab diagnose``: train() has returned the complete run, ``finish_diagnose`` (the
    verdict, the report) has not begun. The line said "nothing was written to continue from;
    run the command again", which the folder then refuses; it is complete, and ``trainlab
    report DIR`` writes its report (the diagnose report: population.json says so)."""
    diag = importlib.import_module("trainlab.diagnostics.run")
    cfg, out = tmp_path / "c.yaml", tmp_path / "run"
    cfg.write_text(dump_config(small_config(train={"epochs": 2, "batch_size": 256})))
    line = _interrupted_line(
        monkeypatch, capsys, diag, "finish_diagnose", raise_ctrl_c,
        "diagnose", cfg, "--out", out, "--device", "cpu",
    )  # fmt: skip
    assert "is complete" in line and f"trainlab report {out}" in line, line
    code, _, err = run_cli_catching(monkeypatch, capsys, "report", out)
    assert code == 0 and (out / "report.html").is_file(), err[-1500:]


def test_an_error_raised_over_a_ctrl_c_in_a_study_cell_says_the_study_is_incomplete(
    tmp_path, monkeypatch, capsys
):
    """A ValueError raised over a Ctrl-C inside a cell's training (library code that turned the
    interrupt into its own error) passed the study's handler, which took only KeyboardInterrupt,
    OSError, MemoryError and RuntimeError: the line then told the user to resume the cell."""
    from trainlab.train import Trainer

    def interrupted(self, *args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ValueError("cut short") from None

    out = tmp_path / "study"
    line = _interrupted_line(
        monkeypatch, capsys, Trainer, "fit", interrupted, "study", "init", "--quick", "--out", out
    )
    assert "trainlab resume" not in line and "incomplete" in line, line


def test_ctrl_c_right_after_a_studys_report_is_written_says_it_is_complete(
    tmp_path, monkeypatch, capsys
):
    """The study's report.html is in place when the Ctrl-C lands (its folder's fsync, the
    return): the study is complete, and the line says so and where the report is; it said the
    study was incomplete and to run it again."""
    html = importlib.import_module("trainlab.report.html")
    real = html.render_report

    def then_ctrl_c(run_dir, *args, **kwargs):
        real(run_dir, *args, **kwargs)
        raise KeyboardInterrupt

    out = tmp_path / "study"
    line = _interrupted_line(
        monkeypatch, capsys, html, "render_report", then_ctrl_c,
        "study", "clipping", "--quick", "--out", out,
    )  # fmt: skip
    assert "incomplete" not in line and "is complete" in line, line
    assert line.endswith(str(out / "report.html")), line
    assert (out / "results.json").is_file() and (out / "report.html").is_file()


def test_a_note_is_attached_once_and_a_note_that_cannot_be_read_leaves_the_interrupt():
    """Nested handlers that say the same (train()'s and its fit's "continue the run ...") gave
    a Python user the line twice; a note computed when the interrupt lands that cannot read the
    folder (PermissionError) turned the Ctrl-C into an OSError (the CLI: "cannot use ...",
    exit 2)."""
    import pytest

    from trainlab.errors import interrupt_note, on_interrupt

    interrupt_note(clear=True)
    same = "continue the run with X"
    with pytest.raises(KeyboardInterrupt) as caught, on_interrupt(same), on_interrupt(same):
        raise KeyboardInterrupt
    assert caught.value.__notes__ == ["continue the run with X"]

    def unreadable() -> str:
        raise PermissionError(13, "Permission denied", "/somewhere")

    interrupt_note(clear=True)
    with pytest.raises(KeyboardInterrupt), on_interrupt(unreadable):
        raise KeyboardInterrupt
    assert interrupt_note() is None


def test_a_pretrain_whose_report_fails_says_the_complete_run_is_kept(tmp_path, monkeypatch, capsys):
    """The pre-training run is complete (summary.json) when its report fails on an error of its
    own: the run is kept, and the error now says so and how to render the report."""
    from conftest import TINY_PRETRAIN, config_file

    report_mod = importlib.import_module("trainlab.report")

    def broken(*args, **kwargs):
        raise ValueError("a figure could not be drawn")

    cfg, out = config_file(tmp_path, TINY_PRETRAIN, "p.yaml"), tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(report_mod, "build_report", broken)  # (imported by run_pretrain as it runs)
        code, _, err = run_cli_catching(monkeypatch, capsys, "pretrain", cfg, "--out", out)
    assert code == 1 and "a figure could not be drawn" in err, err[-1500:]
    assert (out / "summary.json").is_file()
    assert f"the run {out} is complete and kept: `trainlab report {out}`" in " ".join(err.split())
    code, _, err = run_cli_catching(monkeypatch, capsys, "report", out)
    assert code == 0 and (out / "report.html").is_file(), err[-1500:]


def test_ctrl_c_as_a_study_prints_its_folder_says_it_is_complete(tmp_path, monkeypatch, capsys):
    """After ``run_study`` returned, as ``trainlab study`` prints the folder: no handler of the
    command's own; the line said "nothing was written to continue from; run the command
    again" (refused: the folder exists); the study is complete, its report written."""
    core = importlib.import_module("trainlab.cli.core")
    out = tmp_path / "study"
    line = _interrupted_line(  # (escape: the first print after run_study returned)
        monkeypatch, capsys, core, "escape", raise_ctrl_c,
        "study", "clipping", "--quick", "--out", out,
    )  # fmt: skip
    assert line == f"interrupted; the run {out} is complete; its report: {out / 'report.html'}"


def test_no_complete_run_is_claimed_for_a_report_of_a_run_killed_midway(tmp_path, monkeypatch):
    """``trainlab report DIR`` renders a run killed midway too (marked incomplete): the
    recorded run is not called complete afterwards."""
    from trainlab.errors import complete_fallback, interrupt_note, note_complete

    (tmp_path / "killed").mkdir()
    interrupt_note(clear=True)
    note_complete(tmp_path / "killed")
    assert complete_fallback() is None
    (tmp_path / "killed" / "summary.json").write_text("{}")
    assert complete_fallback().startswith(f"the run {tmp_path / 'killed'} is complete")
    interrupt_note(clear=True)
    assert complete_fallback() is None
