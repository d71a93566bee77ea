"""cliout35 review: what the CLI prints, checked against the files it writes."""

from __future__ import annotations

import io

from rich.console import Console

from trainlab.cli.core import summary_table


def _summary() -> dict:
    acc = {"mean": 0.8913649025069638, "std": 0.007878627088429537, "ci95": 0.0707866559, "n": 2}
    loss = {"mean": 0.4143, "std": 0.0335, "ci95": 0.301, "n": 2}
    none = {"mean": None, "std": None, "ci95": None, "n": 0}
    return {
        "name": "lr-sweep-sgd",
        "k": 4,
        "epochs": 1,
        "groups": [
            {
                "group": "optim.lr=0.1",
                "n": 2,
                "aggregates": {"test_acc": acc, "test_loss": loss, "val_acc": acc},
            },
            {
                "group": "optim.lr=1000000.0",
                "n": 2,
                "aggregates": {"test_acc": none, "test_loss": none, "val_acc": none},
            },
        ],
    }


# The end-of-run table of `trainlab train` (src/trainlab/cli/core.py summary_table) folds its
# number cells character-wise (overflow="fold") in a narrow terminal: at COLUMNS=40 the cell
# "0.8914 ± 0.0079" is printed as the lines "0.891" / "4 ±" / "0.007" / "9", so a reader sees
# a mean of 0.891 and a std of 0.007 (and "9"), values that are not in summary.json (0.8914,
# 0.0079). A number must stay whole on one line (wrap between mean, "±" and std, or drop/stack
# columns when the terminal is too narrow), so the exact strings the summary's numbers format
# to must appear in the printed text.
def test_summary_table_numbers_not_split_at_40_columns() -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=40, color_system=None, emoji=False)
    console.print(summary_table(_summary(), has_test=True, has_val=True))
    text = buf.getvalue()
    for number in ("0.8914", "0.0079", "0.0708", "0.4143", "0.0335"):
        assert number in text, f"{number} is split across lines at 40 columns:\n{text}"


# `trainlab schedule` at COLUMNS=40 showed six curve columns folded character-wise: the lr
# 0.0009938 printed as "0.00" / "0993" and the label optim.lr=0.001 as "optim.lr=0.0" / "01",
# lines that read as other numbers. Expected: only the curves whose numbers and labels fit
# whole (the rest counted in "not shown in this table"), every printed number whole.
def test_schedule_table_keeps_numbers_whole_at_40_columns(tmp_path) -> None:
    import os
    import subprocess
    import sys

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "optim: {name: sgd}\nschedule: {name: cosine}\ntrain: {epochs: 3}\n"
        "population: {grid: {optim.lr: [0.001, 0.003, 0.01, 0.03, 0.1]}}\n"
    )
    env = {**os.environ, "COLUMNS": "40"}
    out = subprocess.run(
        [sys.executable, "-m", "trainlab", "schedule", str(cfg)],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout  # fmt: skip
    assert "optim.lr=0.001" in out
    # cosine over the run's 39 steps: 0.001 · (1 + cos(π · 13/39)) / 2 at epoch 1, 26/39 at 2
    assert "0.00075" in out and "0.00025" in out
    assert "more curves are not shown in this table; --plot draws all" in out
    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= 40 for line in table), out
