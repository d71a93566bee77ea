"""Review of the run summary (summary.json / RunResult.summary): what still fails.

Checked and fine (no test here): per-model ``final`` equals the last metrics.jsonl row (the stop
epoch's for early-stopped models, the last finite epoch's for NaN models); aggregates against
numpy/scipy (mean, ddof=1 std, Student-t ci95) over non-NaN models, per group and overall;
group names/order/overrides for grids, variants and per-model schedule lists; nan_models and
their steps; all-NaN runs (nulls, valid JSON); strict JSON; summary.json identical after a kill
at every epoch + resume and after extending train.epochs; the console table's numbers.
"""

from __future__ import annotations

import json

from conftest import small_config
from trainlab.train import train


# Wrong: a model whose very last update blows it up (finite training loss at every step, but
# val/test loss Inf/NaN after the final step) is reported as status "ok" with null val/test
# metrics, is missing from nan_models, and silently drops out of the aggregates (n=0); the
# console prints "0 of 2" with no NaN/Inf line. The README promises that a model whose loss
# becomes NaN/Inf is stopped and flagged and that the summary says which model, at which step;
# the overflow is otherwise only "seen in the next step's loss", and at the run's end there is
# no next step. Right: a model whose final evaluation is non-finite is flagged (status "nan",
# listed in nan_models), never "ok" with no metrics.
def test_model_diverging_on_the_last_step_is_not_reported_ok(tmp_path):
    # full batch (one step per epoch): steps 0 and 1; the lr jumps ×1e30 at step 1, the last
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.05},
        schedule={"name": "multistep", "interval": "step", "milestones": [1], "gamma": 1e30},
        train={"epochs": 2, "batch_size": 4096},
        population={"seeds": [0, 1]},
    )
    res = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert disk["steps"] == 2
    for m in disk["models"]:
        assert m["final"]["train_loss"] is not None  # training itself never saw NaN/Inf
        if m["final"]["val_loss"] is None or m["final"]["test_loss"] is None:
            assert m["status"] != "ok", f"model {m['index']}: status ok with no final loss"
            assert m["index"] in [n["index"] for n in disk["nan_models"]]
    assert res.summary == disk
