"""Review watchpop33: per-model diagnostics of populations (trainlab.diagnostics.watch and
`train.diagnose_every`)."""

from __future__ import annotations

from trainlab.train import train


def _config(seeds: list[int], lrs: list[float]) -> dict:
    return {
        "name": "nanpop",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [32, 32], "activation": "relu"},
        "optim": {"name": "sgd", "lr": 0.01},
        "train": {"epochs": 2, "batch_size": 400, "diagnose_every": 1},
        "population": {"seeds": seeds, "grid": {"optim.lr": lrs}},
    }


# A model stopped for NaN/Inf inside a population keeps getting diagnostics records in the
# epochs after its failing one (Trainer._own_records drops only an early-stopped model's
# records from its stop on): the hooks see its frozen weights on later batches only because
# other models still train. Trained alone (a population of 1) the same model's run ends with
# its failing epoch, so its records, and the verdict computed from its latest sampled steps
# (dead_relu / gradients / activations are judged at a later step, e.g. 24 instead of 12 with
# batch 100 / every 2, and read other values: dead ReLU 94% vs 91%), depend on which other
# models share the population (principle 2, and issue 4's "statistics per model").
# Expected: the NaN model's records in the K=2 run are exactly the
# steps (and values) that the K=1 run of that model records. Fix: in _own_records, also drop a
# NaN-stopped model's records after the end of the epoch in which it failed (as for
# stopped_step), or equivalently cut them where a population of one would have stopped.
def test_nan_stopped_model_records_do_not_depend_on_other_models() -> None:
    both = train(_config([1], [0.01, 1e5]), write=False, progress=False, device="cpu")
    alone = train(_config([1], [1e5]), write=False, progress=False, device="cpu")
    assert [m["status"] for m in both.summary["models"]] == ["ok", "nan"]
    assert alone.summary["models"][0]["status"] == "nan"
    mine = {(r["layer"], r["step"]): r for r in both.diagnostics if r["model"] == 1}
    solo = {(r["layer"], r["step"]): r for r in alone.diagnostics}
    assert sorted({s for _, s in mine}) == sorted({s for _, s in solo})
    for key, r in solo.items():
        assert mine[key]["dead_fraction"] == r["dead_fraction"], key
