"""Review (gridreport19): the report of a run with early-stopped models and --diagnose.

Run directories are written by hand in the formats `trainlab train` writes (the numbers mirror
a real `trainlab train es.yaml --diagnose` run: digits, adam lr 0.03, patience 1, 3 seeds),
so that each test takes well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from trainlab.diagnostics import verdict
from trainlab.report import plots
from trainlab.report.rundata import read_run
from trainlab.report.tables import diagnostics_table, group_table

STOP = 20  # model 1 early-stops at the end of epoch 2 (10 steps per epoch)


def _diag(model: int, step: int, layer: str, order: int, ratio: float) -> dict:
    return {
        "model": model, "layer": layer, "step": step, "kind": "linear", "order": order,
        "act_mean": 0.0, "act_std": 1.0, "dead_fraction": None, "saturated_fraction": None,
        "nonfinite": False, "grad_norm": 0.1, "out_grad_norm": 0.1, "weight_norm": 1.0,
        "update_ratio": ratio,
    }  # fmt: skip


def _run(root: Path) -> Path:
    """Two seeds of one group, 4 epochs: model 0 trains to the end, model 1 early-stops at
    step 20 (its later rows hold its frozen weights' numbers: lr 0, same val/test losses, as the
    trainer writes them); diagnostics every 10 steps (a frozen model's update ratio is 0)."""
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(
        "name: es\ntrain:\n  epochs: 4\n  early_stopping_patience: 1\n"
    )
    models = [{"index": i, "seed": i, "overrides": {}, "group": "default"} for i in range(2)]
    (root / "population.json").write_text(json.dumps({"k": 2, "models": models}))
    test = {0: [1.0, 0.8, 0.6, 0.4], 1: [2.0, 1.9, 1.9, 1.9]}
    val = {0: [1.0, 0.8, 0.6, 0.4], 1: [2.0, 2.1, 2.1, 2.1]}
    rows = []
    for e in range(1, 5):
        for i in range(2):
            frozen = i == 1 and 10 * e > STOP
            rows.append({
                "model": i, "epoch": e, "step": 10 * e, "train_loss": test[i][e - 1],
                "train_acc": 0.5, "val_loss": val[i][e - 1], "val_acc": 0.5,
                "test_loss": test[i][e - 1], "test_acc": 0.5, "lr": 0.0 if frozen else 0.03,
                "grad_norm": 1.0, "time": 0.1,
            })  # fmt: skip
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    last = {0: rows[-2], 1: rows[3]}  # model 1: its stop epoch (2)
    keys = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
    summary = {
        "name": "es", "k": 2, "epochs": 4, "steps": 40, "device": "cpu",
        "models": [
            {**models[0], "status": "ok", "stopped_step": None,
             "final": {k: last[0][k] for k in keys}},
            {**models[1], "status": "early_stopped", "stopped_step": STOP,
             "final": {k: last[1][k] for k in keys}},
        ],
        "aggregates": {}, "groups": [], "nan_models": [],
    }  # fmt: skip
    (root / "summary.json").write_text(json.dumps(summary))
    diag = []
    for step in range(0, 50, 10):
        for i in range(2):
            ratio = 0.0 if i == 1 and step > STOP else 1e-3
            diag += [_diag(i, step, "fc1", 0, ratio), _diag(i, step, "out", 1, ratio)]
    (root / "diagnostics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in diag))
    return root


def test_curve_mean_at_last_epoch_matches_group_table_with_an_early_stopped_seed(tmp_path):
    # wrong: after a seed early-stops its rows are cut, so the "mean over seeds" line (and band)
    # becomes the survivors' mean (0.4 here) and disagrees with the group table / summary.json
    # (1.15); right: a stopped seed counts with its final (frozen) value, so the line ends at
    # the table's group mean
    run = read_run(_run(tmp_path / "run"))
    cols, rows = group_table(run)
    table_mean = float(rows[0][cols.index("test_loss mean ± std")].split(" ± ")[0])
    assert table_mean == 1.15
    fig = plots.curve_figure(run, "loss")
    test_ax = next(ax for ax in fig.axes if ax.get_title() == "test loss")
    line = next(ln for ln in test_ax.get_lines() if ln.get_label() == "default")
    assert np.isclose(line.get_ydata()[-1], table_mean)


def test_diagnostics_table_leaves_out_records_after_an_early_stop(tmp_path):
    # wrong: a frozen (early-stopped) model's post-stop records (update ratio 0) are averaged
    # into the group's "last recorded step" row, halving the update/weight ratio (5e-4); right:
    # a stopped model counts with its records up to stopped_step, as the curves are cut (1e-3)
    run = read_run(_run(tmp_path / "run"))
    cols, rows = diagnostics_table(run)
    fc1 = next(r for r in rows if r[cols.index("layer")] == "fc1")
    assert fc1[cols.index("update_ratio")] == "0.001"


def test_diagnostics_figure_mean_is_not_dragged_down_by_a_frozen_seed(tmp_path):
    # wrong: the per-layer "mean over seeds" line averages the frozen model's update ratio of 0
    # after its early stop (the line halves, as if the lr decayed); right: 1e-3 at every step
    run = read_run(_run(tmp_path / "run"))
    fig = plots.diagnostics_figure(run, "update_ratio")
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "fc1")
    assert np.allclose(line.get_ydata(), 1e-3)


def test_verdict_does_not_warn_for_an_early_stopped_model_that_trained_healthily():
    # wrong: two models with identical update ratios (Adam's large first step 0.3 at step 0, then
    # 1e-3) get different verdicts: the one early stopping froze is "warn: no update ... at step
    # 0 it was too large", though healthy steps followed it (the first sampled step is excused
    # for a running model); right: "ok" for both
    def recs(model: int, stop: int) -> list[dict]:
        out = []
        for s in range(0, 60, 10):
            r = 0.3 if s == 0 else (1e-3 if s <= stop else 0.0)
            out += [_diag(model, s, "fc1", 0, r), _diag(model, s, "out", 1, r)]
        return out

    found = {
        f.model: f for f in verdict(recs(0, 10**6) + recs(1, STOP)) if f.check == "update_ratio"
    }
    assert found[0].status == "ok"
    assert found[1].status == "ok", found[1].message


def test_a_stopped_seed_is_held_at_its_last_own_record_without_update_ratio(tmp_path):
    # RunData.diagnostics_held carries an early-stopped seed's last own record to the later steps
    # its group's other models were sampled at (never past its group's end into another's):
    # model 1 (stop 20) is held at 20, 30 and 40, where model 0 of its group has records
    from trainlab.report.rundata import read_run

    run = read_run(_run(tmp_path / "run"))
    held = sorted(
        r["step"] for r in run.diagnostics_held() if r["model"] == 1 and r["layer"] == "fc1"
    )
    assert held == [0, 10, 20, 30, 40]  # own steps before its stop (20), then held
    assert all(
        r["update_ratio"] is None
        for r in run.diagnostics_held()
        if r["model"] == 1 and r["step"] >= STOP
    )
