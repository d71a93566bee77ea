"""Review cli29: the CLI as used in scripts and CI (piped output, CI environment variables,
exit codes and messages)."""

from __future__ import annotations

import io
import os
import re
import sys

from conftest import run_cli

TINY = (
    "name: cli29\ndata: {name: blobs, options: {n_samples: 300}}\nmodel: {name: mlp, hidden: [8]}\n"
    "train: {epochs: 3, batch_size: 64}\npopulation: {seeds: [0]}\n"
)


def _config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(TINY)
    return path


# What is wrong: trainlab.train._redraws decides "a live bar redraws" from
# `console.is_terminal and not console.is_dumb_terminal`, not from rich's own
# `console.is_interactive`. A CI job that wants colours but no animation sets rich's documented
# TTY_INTERACTIVE=0 beside FORCE_COLOR=1 (force-color.org): rich then does not redraw the bar
# (Live only animates when is_interactive), but trainlab, seeing a "terminal", also skips its
# per-epoch lines, so the log shows no progress at all until the run ends (checked with
# `.venv/bin/trainlab train ... > log`: 0 "epoch i/N" lines). Expected: without a redrawing bar
# the one-line-per-epoch fallback is printed, as it is for a plain pipe.
def test_epoch_lines_are_printed_when_rich_does_not_animate(monkeypatch, capsys, tmp_path):
    for var in ("COLUMNS", "LINES", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "0")
    cfg = _config(tmp_path)
    code, out, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", tmp_path / "run", "--device", "cpu",
        "--no-report",
    )  # fmt: skip
    assert code == 0, err[-2000:]
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)  # (colours: FORCE_COLOR)
    for epoch in (1, 2, 3):
        assert f"cli29 epoch {epoch}/3: val_acc" in out, out


class _ClosedPipe(io.TextIOBase):
    """stdout as `trainlab train ... | head -1` leaves it: the reader goes away after the first
    line, and every later write raises BrokenPipeError (Python ignores SIGPIPE). ``fileno`` is
    a scratch file's, so that rich's on_broken_pipe (dup2 of /dev/null onto it) is harmless."""

    encoding = "utf-8"

    def __init__(self, fd: int) -> None:
        self.fd, self.writes = fd, 0

    def write(self, s: str) -> int:
        self.writes += 1
        if self.writes > 1:
            raise BrokenPipeError(32, "Broken pipe")
        return len(s)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return False


# What is wrong: `trainlab train CFG | head -1` (or `| grep -m1 ...`) kills the training after
# the first epoch with exit status 1 and NOTHING on stderr (which is still open): rich's
# Console.on_broken_pipe raises SystemExit(1) from inside the trainer's per-epoch print, and
# app.main lets it through. The run is left unfinished (no summary.json) with no line saying
# so or how to continue, unlike Ctrl-C/SIGTERM, which print `trainlab resume DIR`
# (confirmed with a real pipe via subprocess: rc 1, stderr b''). Expected: either the training
# goes on (stdout's reader leaving does not stop a run: the run finishes with summary.json), or
# the command stops with one line on stderr naming `trainlab resume <run dir>`.
def test_a_closed_stdout_pipe_does_not_end_the_run_silently(monkeypatch, capsys, tmp_path):
    for var in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)
    cfg = _config(tmp_path)
    run = tmp_path / "run"
    sink = os.open(tmp_path / "sink", os.O_WRONLY | os.O_CREAT)
    try:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdout", _ClosedPipe(sink))
        code, _, err = run_cli(
            monkeypatch, capsys, "train", cfg, "--out", run, "--device", "cpu", "--no-report"
        )
    finally:
        monkeypatch.undo()
        os.close(sink)
    finished = (run / "summary.json").is_file()
    if not finished:
        assert code not in (0, None), code
        assert f"trainlab resume {run}" in err, (code, err)
        assert len(err.strip().splitlines()) == 1, err
    else:
        assert code in (0, None) or err.strip(), (code, err)


# What is wrong: `trainlab schedule CFG --out sched.png` (without --plot) exits 0 and writes
# no file: --out is silently ignored. A script that then uploads sched.png fails later, far from
# the cause. lr-find refuses options that "would change nothing" (--steps with --population,
# --epochs without it, cli/optim.py) and README says "Their `--out FILE` plots ...". Expected:
# either the plot is written (an --out implies --plot) or the command is refused with exit 2 and
# one line naming --plot.
def test_schedule_out_without_plot_is_not_silently_ignored(monkeypatch, capsys, tmp_path):
    cfg = _config(tmp_path)
    png = tmp_path / "sched.png"
    code, _, err = run_cli(monkeypatch, capsys, "schedule", cfg, "--out", png)
    if png.exists():
        assert code in (0, None), err
    else:
        assert code == 2, (code, err)
        assert "--plot" in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1, err


# The range test sets every model's learning rate itself: a population grid over optim.lr
# (examples/lr_sweep_sgd.yaml) made lr-find run 25 range tests of which each 5 were identical
# (the 5 lr groups of each seed), silently. Expected: the per-model lr is dropped, with a
# warning, and one range test per distinct remaining model.
def test_lr_find_drops_a_grid_over_the_lr_it_sweeps(monkeypatch, capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        TINY.replace("seeds: [0]", "seeds: [0, 1], grid: {optim.lr: [0.1, 0.01, 0.001]}")
    )
    code, out, err = run_cli(
        monkeypatch, capsys, "lr-find", cfg, "--steps", "10", "--device", "cpu",
        "--out", tmp_path / "lf.png",
    )  # fmt: skip
    assert code in (0, None), err
    assert "seed 0" in out and "seed 1" in out and "optim.lr=" not in out, out
    # one line, as the CLI says warnings: not Python's "FILE:LINE: UserWarning" and source line
    err = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)  # (colours, if a terminal is forced)
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: lr_find sweeps"), err
    assert "population.grid" in lines[0] and "UserWarning" not in err, err


# `trainlab resume` of a finished run whose metrics.jsonl is lost said "nothing to train: the
# run is complete" on stdout, then refused the run for the missing file: two answers that
# contradict each other. Expected: the error alone.
def test_resume_says_no_complete_run_before_refusing_its_files(monkeypatch, capsys, tmp_path):
    run = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", _config(tmp_path), "--out", run, "--device", "cpu",
        "--no-report",
    )  # fmt: skip
    assert code in (0, None), err
    (run / "metrics.jsonl").unlink()
    code, out, err = run_cli(monkeypatch, capsys, "resume", run)
    assert code == 2 and "metrics.jsonl" in err, (code, err)
    assert "nothing to train" not in out + err, out + err
