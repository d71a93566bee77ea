"""Review (watchpop31): watch on populations, ``train --diagnose`` and the report's
diagnostics section."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainlab.report import tables
from trainlab.report.rundata import RunData


def _rec(model: int, step: int, update: float, grad: float | None) -> dict:
    return {
        "model": model, "layer": "fc1", "step": step, "kind": "linear", "order": 0, "calls": 1,
        "act_mean": 0.1, "act_std": 1.0, "dead_fraction": None, "saturated_fraction": None,
        "nonfinite": False, "grad_norm": grad, "out_grad_norm": grad, "weight_norm": 3.0,
        "update_ratio": update,
    }  # fmt: skip


# The report's diagnostics table averages each group's last records over its seeds. A seed the
# trainer stopped for NaN/Inf keeps being recorded with its frozen weights, so its update_ratio
# there is 0.0 (no optimizer step moves it), and that 0 is averaged into the group's mean: the
# table shows half of the one running seed's ratio (a real run, `train` of an MLP with
# leaky_relu, SGD lr 5 and seeds 0-3, where seeds 0 and 1 stop for NaN: the fc1 cell reads
# 0.00158 while the running seeds' ratios are 0.00214 and 0.00418). RunData.diagnostics_held
# already leaves an early-stopped seed's frozen update ratio out for exactly this reason ("a
# frozen model's 0 is not a measurement: averaged in, it halved a group's ratio"); a seed
# frozen by a NaN stop is no different. Expected: the running seed's 0.004 alone.
# (src/trainlab/report/rundata.py diagnostics_held / report/tables.py diagnostics_table)
def test_diagnostics_table_does_not_average_a_nan_stopped_seeds_frozen_update_ratio():
    models = [{"index": i, "seed": i, "overrides": {}} for i in range(2)]
    summary = {
        "models": [
            {"index": 0, "seed": 0, "overrides": {}, "status": "nan", "stopped_step": 7,
             "final": {}},
            {"index": 1, "seed": 1, "overrides": {}, "status": "ok", "stopped_step": None,
             "final": {}},
        ]
    }  # fmt: skip
    diags = [
        _rec(0, 0, 0.01, 0.5), _rec(1, 0, 0.01, 0.5),
        _rec(0, 5, 0.02, 0.5), _rec(1, 5, 0.006, 0.4),
        _rec(0, 10, 0.0, 0.3), _rec(1, 10, 0.004, 0.3),  # model 0 frozen since step 7
    ]  # fmt: skip
    run = RunData(path=Path("r"), population={"models": models}, summary=summary,
                  diagnostics=diags)  # fmt: skip
    cols, rows = tables.diagnostics_table(run)
    (row,) = rows
    cell = row[cols.index("update_ratio")]
    assert float(cell) == pytest.approx(0.004, rel=1e-3), (cols, row)
