"""rev38m: README commands and examples/ configs run as a course teacher would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_log_file_progress_line_keeps_the_val_acc_number_whole(tmp_path):
    """README (Quick start): "in a log file or a pipe each line stays whole, with no colour
    codes, and the progress bar becomes a line per epoch".

    ``trainlab train examples/init_schemes.yaml --set train.epochs=1 > log`` prints the epoch
    line whole, but then the bar's final state, cut at rich's 80-column file width with "…":
    ``init-schemes val_acc 0.… ━━━━ 13/13 steps 0:00:02 ETA 0:00:00``: the val_acc number is
    split (the same happens to ``digits-mlp val_acc 0.…`` when a run is interrupted).
    Expected: every line of the log that shows val_acc shows the whole number (``0.516``);
    got: a line with ``val_acc 0.…``."""
    env = dict(os.environ)
    for var in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(var, None)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    log = tmp_path / "train.log"
    with open(log, "w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "trainlab", "train", str(ROOT / "examples/init_schemes.yaml"),
             "--set", "train.epochs=1", "--set", "model.hidden=[8]", "--seeds", "0-1",
             "--out", str(tmp_path / "run"), "--device", "cpu", "--no-report"],
            stdout=fh, stderr=subprocess.PIPE, text=True, env=env, timeout=120, cwd=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in log.read_text().splitlines() if "val_acc" in line]
    assert lines, log.read_text()
    cut = [line for line in lines if not re.search(r"val_acc \d\.\d{3}", line)]
    assert not cut, "lines with a cut val_acc number:\n" + "\n".join(cut)
