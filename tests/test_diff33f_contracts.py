"""Review diff33f: the evaluation stop (stopped_by: evaluation) in the verdict and the report."""

from __future__ import annotations

import json
import warnings

import pytest

from conftest import Killed, kill_after_checkpoint, small_config
from trainlab.report.rundata import read_run
from trainlab.train import train


def _step_overflow_run(tmp_path, name, every):
    # one step an epoch; the "step" schedule multiplies the lr by 1e30 after epoch 1, so step 0's
    # update is sane and step 1's update overflows the weights (its loss and gradient finite):
    # epoch 2's evaluation is non-finite and the model is stopped at step 2 by the evaluation
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.05},
        schedule={"name": "step", "step_size": 1, "gamma": 1e30},
        train={"epochs": 3, "batch_size": 4096, "diagnose_every": every},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(cfg, out=tmp_path / name, progress=False, device="cpu")
    out = tmp_path / name
    summary = json.loads((out / "summary.json").read_text())
    verdict = json.loads((out / "verdict.json").read_text())
    return summary, verdict


# Wrong: with train.diagnose_every=2 step S-1 = 1 (whose update overflowed) is not sampled, and
# with_trainer_stops (diagnostics/run.py) says "not sampled: sampling every step finds the layer
# (trainlab diagnose --every 1, or --set train.diagnose_every=1)". Following that advice (the
# same run with diagnose_every=1) finds no layer: its verdict says "no output or gradient of a
# watched layer was non-finite: the update itself overflowed the weights". It cannot be
# otherwise: an evaluation stop means step S-1's loss and gradient were finite (the trainer
# checks them every step), so it is the update that overflowed. Right: no promise that sampling
# every step finds a layer for an evaluation stop.
def test_evaluation_stop_with_step_s_minus_1_unsampled_does_not_promise_a_layer(tmp_path):
    s1, v1 = _step_overflow_run(tmp_path, "every1", 1)
    s2, v2 = _step_overflow_run(tmp_path, "every2", 2)
    for s in (s1, s2):
        m = s["models"][0]
        assert (m["status"], m["stopped_step"], m.get("stopped_by")) == ("nan", 2, "evaluation")
    (f1,) = [f for f in v1 if f["check"] == "nonfinite"]
    assert "no output or gradient of a watched layer was non-finite" in f1["message"]
    (f2,) = [f for f in v2 if f["check"] == "nonfinite"]
    assert f2["status"] == "fail"
    assert "finds the layer" not in f2["message"], f2["message"]
    assert "--every 1" not in f2["message"], f2["message"]


# Wrong: a run killed right after the checkpoint of the epoch whose evaluation stopped model 1
# (lr 1e30: step 0's update overflows its weights; metrics row: train_loss finite, val/test
# loss null) is reported by RunData.model_results (report/rundata.py, the killed-run branch,
# which only reads a non-finite train loss or gradient norm as a NaN stop) with model 1
# "incomplete", as if still training, and its verdict "all outputs and gradients finite". The
# trainer has stopped it (the checkpoint holds it dead; resumed, the summary says status "nan",
# stopped_step 1, stopped_by "evaluation"). Right: the killed run's report shows it stopped for
# NaN/Inf at step 1, as the finished run's does.
def test_killed_run_report_shows_the_evaluation_stop(tmp_path, monkeypatch):
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.05},
        train={"epochs": 3, "batch_size": 4096, "diagnose_every": 1},
        population={"seeds": [0], "grid": {"optim.lr": [0.05, 1e30]}},
    )
    kill_after_checkpoint(monkeypatch, 1)
    with warnings.catch_warnings(), pytest.raises(Killed):
        warnings.simplefilter("ignore")
        train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    results = read_run(tmp_path / "run").model_results()
    m = results[1]
    assert (m["status"], m["stopped_step"]) == ("nan", 1), m
    assert results[0]["status"] == "incomplete"
