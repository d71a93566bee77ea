"""`trainlab diagnose` / `train --diagnose`: the verdict of a model the trainer
stopped for NaN, and the steps `train --diagnose` writes to diagnostics.jsonl."""

from __future__ import annotations

import json

import pytest

from trainlab.diagnostics.verdict import verdict


def _rec(step, layer, order, update, grad, nonfinite=False):
    return {
        "model": 0, "step": step, "layer": layer, "kind": "linear", "order": order,
        "act_std": None if nonfinite else 1.0, "nonfinite": nonfinite, "weight_norm": 1.0,
        "grad_norm": grad, "out_grad_norm": grad, "update_ratio": update,
    }  # fmt: skip


def test_update_ratio_names_the_too_large_step_of_a_model_stopped_for_nan():
    """A model with no update (lr 0: stopped by the trainer after NaN) is flagged when an
    earlier sampled step's update was > 1e-1, with that step, although its gradient norms are
    NaN (JSON null) after the stop."""
    recs = [_rec(0, "fc1", 0, 3.1, 0.1), _rec(0, "out", 1, 5.4, 0.1)]
    recs += [_rec(s, "fc1", 0, 0.0, None) for s in (5, 10)]
    recs += [_rec(s, "out", 1, 0.0, None, nonfinite=True) for s in (5, 10)]
    found = {f.check: f for f in verdict(recs)}
    assert "update_ratio" in found, [f.check for f in found.values()]
    f = found["update_ratio"]
    assert f.status == "warn" and "step 0" in f.message


def test_diagnose_population_stopped_model_keeps_its_update_ratio_warning(tmp_path):
    """The same through `diagnose`: model 1 of an lr grid [0.01, 100] is stopped for NaN."""
    from trainlab.config import parse_config
    from trainlab.diagnostics.run import diagnose

    cfg = parse_config({
        "name": "p", "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [32, 32], "activation": "leaky_relu"},
        "optim": {"name": "sgd", "lr": 0.01}, "train": {"epochs": 1, "batch_size": 100},
        "population": {"seeds": [0], "grid": {"optim.lr": [0.01, 100.0]}},
    })  # fmt: skip
    res = diagnose(cfg, out=tmp_path / "run", every=1, epochs=1, device="cpu", progress=False,
                   report=False)  # fmt: skip
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["models"][1]["status"] == "nan"
    mine = {f.check: f for f in res.findings if f.model == 1}
    assert mine["nonfinite"].status == "fail"
    assert "update_ratio" in mine and mine["update_ratio"].status == "warn"


@pytest.mark.parametrize("every", [1, 3, 8])
def test_train_diagnose_writes_every_sampled_step_once_in_order(tmp_path, every, cfg):
    """With deferred reductions (every <= 8) popped once per epoch, each sampled step of both
    epochs is in diagnostics.jsonl once per (model, layer), in order."""
    from trainlab.train import train

    config = cfg(
        train={"epochs": 2, "batch_size": 100, "diagnose_every": every},
        population={"seeds": [0, 1]},
    )
    res = train(config, out=tmp_path / "r", device="cpu", progress=False)
    recs = [json.loads(s) for s in (res.run_dir / "diagnostics.jsonl").read_text().splitlines()]
    keys = [(r["step"], r["model"], r["layer"]) for r in recs]
    assert len(keys) == len(set(keys))
    steps = list(dict.fromkeys(r["step"] for r in recs))
    total = 2 * res.summary["steps_per_epoch"] if "steps_per_epoch" in res.summary else None
    assert steps == sorted(steps) and steps[0] == 0
    assert all(b - a == every for a, b in zip(steps, steps[1:], strict=False))
    if total is not None:
        assert steps[-1] == (total - 1) // every * every
    layers = {r["layer"] for r in recs}
    assert len(recs) == len(steps) * 2 * len(layers)
    assert all(r["update_ratio"] is not None for r in recs if r.get("weight_norm") is not None)
