"""Review (diagnose18): `trainlab diagnose` / `train --diagnose` on purposely sick configs."""

from __future__ import annotations

import json
import re

import pytest

NAN_RUN = {
    "name": "nanrun",
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [32, 32], "activation": "leaky_relu"},
    "optim": {"name": "sgd", "lr": 100.0},
    "train": {"epochs": 1, "batch_size": 100, "diagnose_every": 10},
}


@pytest.fixture(scope="module")
def nan_run(tmp_path_factory):
    """`trainlab train nan.yaml --set train.diagnose_every=10`: NaN at step 4 (not sampled)."""
    from trainlab.train import train

    out = tmp_path_factory.mktemp("d18") / "run"
    train(NAN_RUN, out=out, device="cpu", progress=False)
    return out


def _strict(constant: str):
    raise ValueError(f"not standard JSON: {constant}")


def test_verdict_json_is_standard_json_when_a_finding_value_is_infinite(nan_run):
    # Wrong: train.py _write_verdict json.dumps the findings as they are, so an infinite ratio
    # (activations 'inf×') is written as `Infinity`, unlike summary.json/diagnostics.jsonl.
    # Right: verdict.json is RFC 8259 JSON (non-finite value -> null, as to_jsonable does).
    json.loads((nan_run / "verdict.json").read_text(), parse_constant=_strict)


def test_nan_hint_in_a_train_diagnose_verdict_can_be_followed_with_train(nan_run):
    # Wrong: the verdict of a `trainlab train --diagnose` run says "--every 1 finds the layer",
    # but `trainlab train` has no --every ("No such option"). Right: name something train
    # takes (train.diagnose_every=1) or the diagnose command.
    nf = next(f for f in json.loads((nan_run / "verdict.json").read_text())
              if f["check"] == "nonfinite")  # fmt: skip
    assert nf["status"] == "fail"
    msg = nf["message"]
    assert "--every 1" not in msg or "diagnose_every" in msg or "trainlab diagnose" in msg, msg


def test_zero_update_from_a_tiny_learning_rate_is_not_judged_ok(tmp_path):
    # Wrong: SGD lr 1e-12 on a bias-free MLP: every update rounds away in float32 (ratio 0
    # with nonzero gradients, model status ok), and update_ratio says "ok: no update (model
    # stopped or frozen)". Right: a running model with gradients and no update is too slow.
    from trainlab.train import train

    cfg = {
        "name": "tinylr",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [32, 32], "activation": "relu", "bias": False},
        "init": {"scheme": "he_normal"},
        "optim": {"name": "sgd", "lr": 1e-12},
        "train": {"epochs": 1, "batch_size": 100, "diagnose_every": 5},
    }
    out = tmp_path / "run"
    res = train(cfg, out=out, device="cpu", progress=False)
    assert res.summary["models"][0]["status"] == "ok"
    f = next(f for f in json.loads((out / "verdict.json").read_text())
             if f["check"] == "update_ratio")  # fmt: skip
    assert f["status"] == "warn", f["message"]


def _rec(step, layer, kind, order, **kw):
    r = {"model": 0, "step": step, "layer": layer, "kind": kind, "order": order,
         "nonfinite": False}  # fmt: skip
    r.update(kw)
    return r


def test_update_ratio_slow_since_step_1_under_a_constant_lr_is_flagged():
    # Wrong: Adam lr 2e-6, no schedule (`trainlab diagnose adam.yaml`): only Adam's first step
    # (bias-corrected, |Δ| = lr) reaches 1.02e-5; steps 10, 20, 30 are all ~7.4e-6, yet the
    # verdict is "ok ... fell at the latest step ... as a decaying learning rate makes it".
    # Right: slow at every sampled step after the first is "too small", not "slowed at the end".
    from trainlab.diagnostics import verdict

    recs = []
    for step, ratio in ((0, 1.02e-5), (10, 7.4e-6), (20, 7.4e-6), (30, 7.4e-6)):
        for order, layer in enumerate(("fc1", "fc2", "out")):
            recs.append(_rec(step, layer, "linear", order, act_std=1.0, grad_norm=0.5,
                             out_grad_norm=0.1, weight_norm=10.0, update_ratio=ratio))  # fmt: skip
    f = next(f for f in verdict(recs) if f.check == "update_ratio")
    assert f.status == "warn", f.message


def test_dead_relu_message_does_not_say_25_percent_exceeds_25_percent():
    # Wrong: dead_fraction 0.252 prints "dead ReLU units: 25% in 'act1' > 25%" (both rounded
    # with :.0%), a statement that reads false. Right: enough digits that value != bound.
    from trainlab.diagnostics import verdict

    recs = []
    for step in (0, 10, 20):
        recs += [
            _rec(step, "fc1", "linear", 0, act_std=1.0, grad_norm=1.0, out_grad_norm=1.0,
                 weight_norm=1.0, update_ratio=1e-3),
            _rec(step, "act1", "relu", 1, act_std=0.5, dead_fraction=0.252, out_grad_norm=1.0),
            _rec(step, "out", "linear", 2, act_std=1.0, grad_norm=1.0, out_grad_norm=1.0,
                 weight_norm=1.0, update_ratio=1e-3),
        ]  # fmt: skip
    f = next(f for f in verdict(recs) if f.check == "dead_relu")
    assert f.status == "warn"
    nums = re.findall(r"([\d.]+)%", f.message)
    assert len(nums) == 2 and nums[0] != nums[1], f.message


def test_diagnose_accepts_a_numpy_integer_epochs_like_every(tmp_path):
    # Wrong: diagnose(cfg, every=np.int64(5)) is accepted but epochs=np.int64(1) raises
    # "--epochs must be a whole number >= 1, got np.int64(1)". Right: any Integral, as every.
    import numpy as np

    from trainlab.diagnostics.run import diagnose

    cfg = {"name": "np", "data": {"name": "blobs"}, "model": {"name": "mlp", "hidden": [4]}}
    res = diagnose(cfg, out=tmp_path / "run", every=np.int64(5), epochs=np.int64(1),
                   device="cpu", progress=False, report=False)  # fmt: skip
    assert res.findings
