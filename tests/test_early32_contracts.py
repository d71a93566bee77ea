"""Review early32: early stopping and NaN/Inf stops inside a population."""

import json

from conftest import small_config
from trainlab.train import train


# wrong: Trainer._early_stopping (src/trainlab/train.py) goes on applying the early-stopping rule
# to a model that already stopped for NaN/Inf (it only skips models with a stopped_step). The
# NaN model's frozen validation loss never improves, so `patience` epochs later it gets an
# early-stopping stopped_step as well, and Trainer._own_records then drops every diagnostics
# record of it from that step on: diagnostics.jsonl (and the verdict's step/values for that model)
# change with train.early_stopping_patience, a setting that cannot stop a model that is already
# stopped. Its summary still says status "nan". Right: a NaN/Inf-stopped model keeps its records
# (report.rundata.diagnostics_held: "A model stopped for NaN/Inf keeps its records"), the same
# ones with or without early stopping (model 0 is never early-stopped here: its records match).
def test_early_stopping_does_not_cut_the_diagnostics_of_a_nan_stopped_model(tmp_path):
    def steps(patience):
        cfg = small_config(
            model={"name": "mlp", "hidden": [16]},
            optim={"name": "sgd", "lr": 0.1},
            train={"epochs": 3, "batch_size": 64, "diagnose_every": 5,
                   "early_stopping_patience": patience},
            population={"seeds": [0], "grid": {"optim.lr": [0.1, 1e20]}},
        )  # fmt: skip
        out = tmp_path / f"p{patience}"
        res = train(cfg, out=out, progress=False, device="cpu")
        assert [m["status"] for m in res.summary["models"]] == ["ok", "nan"]
        recs = [json.loads(line) for line in (out / "diagnostics.jsonl").read_text().splitlines()]
        return {m: sorted({r["step"] for r in recs if r.get("model") == m}) for m in (0, 1)}

    with_es, without = steps(1), steps(None)
    assert with_es[0] == without[0]
    assert with_es[1] == without[1], (
        f"the NaN model's records end at step {max(with_es[1])} with early stopping, "
        f"{max(without[1])} without"
    )
