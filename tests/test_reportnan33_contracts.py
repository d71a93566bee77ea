"""Review of trainlab.report (reportnan33): runs with NaN-stopped models and diagnostics."""

from __future__ import annotations

import json

from trainlab.report import tables
from trainlab.report.rundata import read_run


def _write_run(tmp_path):
    """A finished 2-model, 1-group run sampled every 50 steps: model 0 trains to the end
    (steps 0 and 50 recorded), model 1 stopped for NaN/Inf at step 3, so (as the trainer's
    `_own_records` keeps a NaN model's records only up to the end of its failing epoch) its
    only diagnostics record is step 0. This is what `trainlab train --diagnose` wrote for the
    group optim.lr=1e8 of a relu MLP on digits (5 of 6 seeds NaN at step 3)."""
    models = [
        {"index": i, "seed": i, "overrides": {"optim.lr": 1e8}, "group": "optim.lr=1e8"}
        for i in range(2)
    ]
    (tmp_path / "population.json").write_text(json.dumps({"k": 2, "models": models}))
    final = {"train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.0, "val_acc": 0.5,
             "test_loss": 1.0, "test_acc": 0.5}  # fmt: skip
    summ_models = [
        {**models[0], "status": "ok", "stopped_step": None, "final": final},
        {**models[1], "status": "nan", "stopped_step": 3, "final": dict.fromkeys(final)},
    ]
    (tmp_path / "summary.json").write_text(
        json.dumps({"name": "r", "k": 2, "epochs": 4, "models": summ_models})
    )
    rows = []
    for e in range(1, 5):
        rows.append({"model": 0, "epoch": e, "step": 13 * e, **final})
        rows.append({"model": 1, "epoch": e, "step": 13 * e, "train_loss": None})
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    diag = [
        {"model": 0, "layer": "fc1", "step": 0, "grad_norm": 0.25},
        {"model": 1, "layer": "fc1", "step": 0, "grad_norm": 0.25},
        {"model": 0, "layer": "fc1", "step": 50, "grad_norm": 0.0},  # the survivor's layer died
    ]
    (tmp_path / "diagnostics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in diag))
    return read_run(tmp_path)


# tables.diagnostics_table (report section "Per-layer statistics at the last recorded step")
# takes each model's *own* last record and averages them under one row whose "step" column is
# the max step. A NaN-stopped seed's last record is from before its blow-up (step 0 here), so
# the row reads "step 50, models 2, grad_norm 0.125": a value no model had at step 50, hiding
# that the one model measured there has a gradient norm of exactly 0 (a dead first layer; the
# diagnostics figure, which averages per step, shows 0 at step 50, so table and figure
# disagree). The early-stopped case is handled on purpose (held at its last value,
# RunData.diagnostics_held), the NaN case is not. At step 50 only model 0 was measured, so the
# statistic shown for step 50 must be its 0.0 (and the row must not count 2 models there).
def test_diagnostics_table_row_does_not_mix_steps_of_a_nan_stopped_seed(tmp_path):
    run = _write_run(tmp_path)
    cols, rows = tables.diagnostics_table(run)
    rows_50 = [r for r in rows if r[cols.index("step")] == 50]
    assert rows_50, rows
    (row,) = rows_50
    assert row[cols.index("grad_norm")] == tables.fmt(0.0), (cols, row)
