"""read29s review: the CLI (src/trainlab/cli/*.py, errors.py, console.py) on hostile input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAINLAB = Path(sys.executable).with_name("trainlab")
DIGITS = ROOT / "examples" / "digits_mlp.yaml"
LR_SWEEP = ROOT / "examples" / "lr_sweep_sgd.yaml"


def _closed_pipe() -> int:
    """The write end of a pipe whose reader has already left (writes fail with EPIPE)."""
    r, w = os.pipe()
    os.close(r)
    return w


# console.py promises that `trainlab train CFG | head -1` no longer kills the run: the stdout
# console drops its output and "the command goes on: a run finishes and writes its results".
# With `2>&1 | head -1` (stdout and stderr in the same pipe) FailSafeConsole._drop_stdout's own
# note is print()ed to the same closed pipe, the BrokenPipeError escapes on_broken_pipe, and
# typer's main turns it into a silent exit 1: the run stops in its first epoch without
# summary.json. The run must finish (status 0, summary.json written) whatever stderr is.
def test_train_finishes_when_stdout_and_stderr_share_a_closed_pipe(tmp_path: Path) -> None:
    w = _closed_pipe()
    try:
        proc = subprocess.run(
            [str(TRAINLAB), "train", str(DIGITS), "--seeds", "1", "--set", "train.epochs=1",
             "--no-report", "--out", str(tmp_path / "run")],
            stdout=w, stderr=w, stdin=subprocess.DEVNULL, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(w)
    assert proc.returncode == 0
    assert (tmp_path / "run" / "summary.json").is_file()


# app.py's _warnings_as_lines replaces warnings.showwarning with a rich print to stderr. Python's
# own showwarning drops a warning it cannot write ("the file (probably stderr) is invalid - this
# warning gets lost"); the replacement lets the failure escape instead: with stderr on a full
# disk (/dev/full: ENOSPC) or a closed pipe (rich's on_broken_pipe: SystemExit(1)) the first
# warning kills the command with status 1 and no result. lr-find on lr_sweep_sgd.yaml warns
# that it drops the grid's per-model lr; the plot must still be written and the status be 0.
@pytest.mark.parametrize("stderr", ["devfull", "closed_pipe"])
def test_a_warning_on_an_unwritable_stderr_does_not_kill_the_command(
    tmp_path: Path, stderr: str
) -> None:
    if stderr == "devfull" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    err = os.open("/dev/full", os.O_WRONLY) if stderr == "devfull" else _closed_pipe()
    out = tmp_path / "lr.png"
    try:
        proc = subprocess.run(
            [str(TRAINLAB), "lr-find", str(LR_SWEEP), "--steps", "5", "--set",
             "population.seeds=[0]", "--device", "cpu", "--out", str(out)],
            stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, timeout=60,
            check=False,
        )  # fmt: skip
    finally:
        os.close(err)
    assert proc.returncode == 0, proc.stdout.decode()[-500:]
    assert out.is_file()


# optim.py's _png refuses a folder given as --out and suggests a file inside it, "e.g. --out
# DIR/plot.png", with the path pasted in unquoted: for `--out 'my dir'` it says
# "--out my dir/plot.png", which the shell reads as two words (--out my, then a stray
# argument). errors.shell_path exists for exactly this (a suggested command's path is quoted);
# the suggestion must split into the two words --out and DIR/plot.png.
def test_png_folder_suggestion_is_a_pasteable_shell_word(tmp_path: Path) -> None:
    import shlex

    folder = tmp_path / "my dir"
    folder.mkdir()
    proc = subprocess.run(
        [str(TRAINLAB), "schedule", str(DIGITS), "--out", str(folder)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
        env={**os.environ, "COLUMNS": "400"},
    )  # fmt: skip
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "e.g. " in line, line
    assert shlex.split(line.split("e.g. ", 1)[1]) == ["--out", str(folder / "plot.png")]
