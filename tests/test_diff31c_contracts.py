"""Review diff31c: the session's own changes (bb551b7..HEAD) to studies/report/init."""

from __future__ import annotations

from pathlib import Path

from trainlab.report.rundata import RunData
from trainlab.report.tables import diagnostics_table, fmt, fmt_share


# fmt_share promises "0%" only for none (and "<1%" for a small nonzero share), but it tests
# `x < 0.005` while Python's `format(0.005, ".0%")` gives "0%" (0.005 is stored as
# 0.005000000000000000104, formatted half-to-even to 0): one clipped step of 200 reads "0%".
# The clipping study's "steps clipped" column gets exactly such means (k/steps). Any nonzero
# share must not print as "0%" (">99%"/"100%" likewise at the upper end).
def test_fmt_share_never_reads_zero_for_a_nonzero_share():
    assert fmt_share(1 / 200) != "0%"
    assert fmt_share(1 / 200) in ("<1%", "1%")
    assert fmt_share(0.0) == "0%"


def _record(model: int, step: int, ratio: float, *, nonfinite: bool = False) -> dict:
    return {
        "model": model,
        "layer": "fc1",
        "step": step,
        "kind": "linear",
        "act_std": None if nonfinite else 0.5,
        "nonfinite": nonfinite,
        "update_ratio": ratio,
    }


def _two_seed_run(tmp_path: Path, *, finished: bool) -> RunData:
    """One group of two seeds; model 1 fails (NaN) at step 4, model 0 trains on. The trainer
    records the failed model at its failing step with its NaN stats and update_ratio 0.0 (its
    update was discarded: the model is frozen from that step; seen in a real run with
    optim.lr=1e38, diagnose_every=1: step == stopped_step has update_ratio 0.0)."""
    data = RunData(path=tmp_path)
    data.population = {
        "k": 2,
        "models": [
            {"index": 0, "seed": 0, "overrides": {}, "group": "all"},
            {"index": 1, "seed": 1, "overrides": {}, "group": "all"},
        ],
    }
    data.diagnostics = [
        _record(0, 0, 1e-3),
        _record(1, 0, 1e-3),
        _record(0, 4, 1e-3),
        _record(1, 4, 0.0, nonfinite=True),  # the failing step: frozen, no update
    ]
    if finished:
        data.metrics = [
            {"model": 0, "epoch": 1, "step": 8, "train_loss": 1.0, "grad_norm": 1.0},
            {"model": 1, "epoch": 1, "step": 8, "train_loss": None, "grad_norm": None},
        ]
        data.summary = {
            "epochs": 1,
            "models": [
                {"index": 0, "seed": 0, "overrides": {}, "group": "all", "status": "ok",
                 "stopped_step": None, "final": {"train_loss": 1.0}},
                {"index": 1, "seed": 1, "overrides": {}, "group": "all", "status": "nan",
                 "stopped_step": 4, "final": {"train_loss": None}},
            ],
        }  # fmt: skip
    else:  # killed in epoch 2: epoch 1's rows (model 1's loss NaN), no summary.json
        data.diagnostics.append(_record(0, 7, 1e-3))
        data.diagnostics.append(_record(1, 7, 0.0, nonfinite=True))
        data.metrics = [
            {"model": 0, "epoch": 1, "step": 8, "train_loss": 1.0, "grad_norm": 1.0},
            {"model": 1, "epoch": 1, "step": 8, "train_loss": None, "grad_norm": None},
        ]
    return data


def _ratio_cell(data: RunData) -> str:
    cols, rows = diagnostics_table(data)
    assert len(rows) == 1
    return rows[0][cols.index("update_ratio")]


# diagnostics_held (2f6bd7f) sets a NaN-stopped model's update_ratio to None only for steps
# AFTER its stopped_step (`step(rec) > failed[...]`), but stopped_step is nan_step, the step
# whose update was discarded: its record's update_ratio is the frozen model's 0.0, no
# measurement (as for an early-stopped model, whose records from stopped_step on are dropped).
# When that step is the last sampled one, the diagnostics table averages the 0 in and halves
# the group's ratio: 5e-4 instead of the surviving seed's 1e-3. Fix: `>=`.
def test_nan_stopped_seed_frozen_ratio_at_its_failing_step_is_left_out(tmp_path):
    data = _two_seed_run(tmp_path, finished=True)
    held = [r for r in data.diagnostics_held() if r["model"] == 1 and r["step"] == 4]
    assert held and all(r["update_ratio"] is None for r in held)
    assert _ratio_cell(data) == fmt(1e-3)


# For a killed run (no summary.json) model_results gives a NaN model's stopped_step as the
# failing epoch's end step (its metrics row's "step"), not the step it failed at, so every
# frozen 0.0 from the failure to the epoch's end stays in: the report of a run killed in the
# epoch after a NaN shows the group's update ratio halved (5e-4), while the same run finished
# shows 1e-3 (the fix of 2f6bd7f only reaches finished runs). Expected: 1e-3 both ways (e.g.
# take the failing step from the model's first nonfinite diagnostics record).
def test_killed_run_leaves_nan_seed_frozen_ratios_out_too(tmp_path):
    data = _two_seed_run(tmp_path, finished=False)
    assert {r["index"]: r["status"] for r in data.model_results()}[1] == "nan"
    assert _ratio_cell(data) == fmt(1e-3)
