"""Review early30: early stopping end to end (config, trainer, summary, report, diagnose)."""

import json

from conftest import small_config
from trainlab.train import train


# wrong: diagnostics.run._never_moved turns "no update" into "update/weight ratio too small"
# only for models whose summary status is "ok"; an early-stopped model's records all come from
# steps before its stop (the trainer drops the rest), where it trained at its own learning rate,
# so SGD lr 1e-20 (updates round away in float32: val_loss never changes, and patience 1 stops
# it at epoch 2) gets "ok: no update (model stopped or frozen)" - the same model without early
# stopping gets the "warn: too small ... raise the learning rate" finding. Right: the same
# warning with early stopping on (its sampled steps are the same training steps).
def test_diagnose_verdict_of_an_early_stopped_model_whose_updates_round_away_warns(tmp_path):
    def verdict(patience):
        cfg = small_config(
            optim={"name": "sgd", "lr": 1e-20},
            train={"epochs": 3, "batch_size": 64, "diagnose_every": 5,
                   "early_stopping_patience": patience},
        )  # fmt: skip
        out = tmp_path / f"p{patience}"
        res = train(cfg, out=out, progress=False, device="cpu")
        found = json.loads((out / "verdict.json").read_text())
        return res.summary["models"][0]["status"], next(
            f for f in found if f["check"] == "update_ratio"
        )

    status, plain = verdict(None)
    assert status == "ok" and plain["status"] == "warn"  # the reference: no early stopping
    status, stopped = verdict(1)
    assert status == "early_stopped"
    assert stopped["status"] == "warn", stopped["message"]
    assert "too small" in stopped["message"]
