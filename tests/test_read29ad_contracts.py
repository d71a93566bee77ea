"""Review read29ad: report stats / jsonl / curves of stopped seeds."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("matplotlib")

from trainlab.report.plots import curve_figure  # noqa: E402
from trainlab.report.rundata import read_run  # noqa: E402


def _write_run(path, rows, models):
    path.mkdir()
    pop = {
        "k": len(models),
        "models": [
            {"index": m["index"], "seed": m["index"], "overrides": {}, "group": "default"}
            for m in models
        ],
    }
    (path / "population.json").write_text(json.dumps(pop))
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"name": "t", "k": len(models), "epochs": 3, "steps": 30, "models": models}
    (path / "summary.json").write_text(json.dumps(summary))


def _mean_line(fig, title, group="default"):
    ax = next(a for a in fig.axes if a.get_title() == title)
    line = next(ln for ln in ax.get_lines() if ln.get_label() == group)
    return dict(zip(line.get_xdata().tolist(), line.get_ydata().tolist(), strict=True))


# plots._held carries an early-stopped seed's *last finite* value forward, not its final value.
# A seed early-stopped at an epoch whose val_loss was Inf (written null: a diverging eval counts
# as "no improvement" and stops it with patience 1) has a non-finite final val_loss, which the
# summary's and the report table's group aggregates leave out. The curve instead pins the seed at
# its epoch-1 value (0.9) from epoch 2 on -- a value it never had there -- so the last epoch's
# mean is (0.6 + 0.9) / 2 = 0.75, not the summary's group mean 0.6 that curve_figure's docstring
# promises ("so the last epoch's mean is the summary's group mean"). Expected: epoch 2 and 3 are
# the mean over the seeds with a finite value there (model 0 only): 0.8 and 0.6.
def test_early_stopped_seed_with_nonfinite_final_is_not_held_at_a_stale_value(tmp_path):
    rows = [
        {"model": 0, "epoch": 1, "step": 10, "train_loss": 1.0, "val_loss": 1.0},
        {"model": 1, "epoch": 1, "step": 10, "train_loss": 1.0, "val_loss": 0.9},
        {"model": 0, "epoch": 2, "step": 20, "train_loss": 0.9, "val_loss": 0.8},
        {"model": 1, "epoch": 2, "step": 20, "train_loss": 0.9, "val_loss": None},
        {"model": 0, "epoch": 3, "step": 30, "train_loss": 0.8, "val_loss": 0.6},
        {"model": 1, "epoch": 3, "step": 30, "train_loss": 0.9, "val_loss": None},
    ]
    models = [
        {"index": 0, "seed": 0, "overrides": {}, "group": "default", "status": "ok",
         "stopped_step": None, "final": {"train_loss": 0.8, "val_loss": 0.6}},
        {"index": 1, "seed": 1, "overrides": {}, "group": "default", "status": "early_stopped",
         "stopped_step": 20, "final": {"train_loss": 0.9, "val_loss": None}},
    ]  # fmt: skip
    _write_run(tmp_path / "run", rows, models)
    run = read_run(tmp_path / "run")
    fig = curve_figure(run, "loss")
    val = _mean_line(fig, "val loss")
    assert val[3.0] == pytest.approx(0.6)  # the group's final val_loss mean (model 0 alone)
    assert val[2.0] == pytest.approx(0.8)
    assert val[1.0] == pytest.approx(0.95)
