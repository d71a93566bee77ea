"""pipe29 review: trainlab's stdout on a full device (``trainlab ... > /dev/full``).

``trainlab.console.FailSafeConsole`` (stdout's rich console) survives a reader that leaves
(EPIPE: the rest of the output is dropped, one line on stderr, the command goes on and exits
0), but any other error writing stdout -- ENOSPC from /dev/full or a full disk holding a
redirected log, EIO from a hung-up terminal -- escapes ``Console._check_buffer`` (rich only
catches BrokenPipeError). It then reaches ``cli.app._main``'s OSError handler, which blames
the machine's disk: "error: cannot write: No space left on device; what was written before is
intact; free space (or fix the disk), then continue the run with `trainlab resume RUN`" and
exits 2. A training run is killed at its first epoch line (no summary.json), and the advice
is wrong: the run folder's disk is fine and `trainlab resume` dies the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return subprocess.run(
            args, stdout=full, stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=60
        )


# What is wrong: FailSafeConsole handles only BrokenPipeError; an ENOSPC on stdout escapes
# print() as an OSError. Expected (as for a closed pipe, the console's stated purpose: "the
# command goes on"): printing to an unwritable stdout does not raise, the code after it runs,
# and one line on stderr says stdout's output is dropped.
def test_stdout_console_on_full_device_does_not_raise(tmp_path):
    code = (
        "import sys\n"
        "from trainlab.console import FailSafeConsole\n"
        "c = FailSafeConsole()\n"
        "for i in range(3):\n"
        "    c.print('line', i)\n"
        "print('went on', file=sys.stderr)\n"
    )
    res = _run([sys.executable, "-c", code], tmp_path)
    assert "went on" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert res.returncode == 0, res.stderr
    assert "stdout" in res.stderr, res.stderr  # the note names stdout


# What is wrong: `trainlab datasets > /dev/full` says "free space (or fix the disk), then run
# it again" and exits 2: trainlab wrote no file, the failing write is stdout. Expected: the
# same outcome as a closed stdout (one stderr line naming stdout, exit 0, as `| true` gives).
def test_datasets_to_full_device_names_stdout_not_disk(tmp_path):
    res = _run([sys.executable, "-m", "trainlab", "datasets"], tmp_path)
    assert "free space" not in res.stderr, res.stderr
    assert "stdout" in res.stderr, res.stderr
    assert res.returncode == 0, res.stderr


# What is wrong: `trainlab train CFG > /dev/full` (e.g. a batch job whose log disk is full)
# kills the run at its first progress line: no summary.json, exit 2, and the message tells to
# `trainlab resume` it, which fails identically. Expected (as with `| head -1`, where the same
# run completes): the run finishes and writes summary.json, exit 0.
def test_train_to_full_device_completes_the_run(tmp_path):
    out = tmp_path / "run"
    res = _run(
        [
            sys.executable, "-m", "trainlab", "train", str(ROOT / "examples" / "digits_mlp.yaml"),
            "--set", "train.epochs=1", "--set", "model.hidden=[16]",
            "--set", "population.seeds=[0]", "--no-report", "--out", str(out),
        ],
        tmp_path,
    )  # fmt: skip
    assert "free space" not in res.stderr, res.stderr
    assert (out / "summary.json").is_file(), res.stderr
    assert res.returncode == 0, res.stderr
