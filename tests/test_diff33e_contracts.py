"""Review diff33e: the every-epoch stop of a model whose evaluation turned non-finite."""

from __future__ import annotations

import json
import warnings

from conftest import small_config
from trainlab.train import train


def _run(tmp_path, name, lrs, epochs=2):
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.05},
        train={"epochs": epochs, "batch_size": 4096, "diagnose_every": 1},  # one step an epoch
        population={"seeds": [0], "grid": {"optim.lr": lrs}},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(cfg, out=tmp_path / name, progress=False, device="cpu")
    out = tmp_path / name
    recs = [json.loads(line) for line in (out / "diagnostics.jsonl").read_text().splitlines()]
    verdict = json.loads((out / "verdict.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    return recs, verdict, summary


# Wrong: a model stopped by _stop_diverged_in_evaluation (lr 1e30: step 0's update overflows its
# weights, train loss finite, val/test loss non-finite after epoch 1) gets nan_step = 1, the
# first step of the next epoch, and Trainer._own_records cuts a NaN-stopped model's records at
# the end of the epoch holding nan_step, (1 // 1 + 1) * 1 = 2. Run alone, the run ends after
# epoch 1 (no model left), so its diagnostics hold step 0 only; beside a model still training
# (K=2) its records of step 1, where it is frozen with non-finite weights, are kept, and its
# verdict changes (activations/dead_relu "warn" at step 1, nonfinite names layer 'out' at step
# 1) — the results depend on K (principle 2, the docstring of _own_records: "where its run alone
# ends"). Right: the same records and verdict as the model's run alone (cut at nan_step for a
# model stopped at an epoch's end).
def test_evaluation_stop_diagnostics_cut_matches_the_model_run_alone(tmp_path):
    pop_recs, pop_verdict, pop_summary = _run(tmp_path, "pop", [0.05, 1e30])
    one_recs, one_verdict, one_summary = _run(tmp_path, "alone", [1e30])
    m = pop_summary["models"][1]
    assert (m["status"], m["stopped_step"]) == ("nan", 1)
    assert (one_summary["models"][0]["status"], one_summary["models"][0]["stopped_step"]) == (
        "nan",
        1,
    )
    pop_steps = sorted({r["step"] for r in pop_recs if r.get("model", 0) == 1})
    one_steps = sorted({r["step"] for r in one_recs if r.get("model", 0) == 0})
    assert pop_steps == one_steps
    pick = lambda v, i: [(f["check"], f["status"], f["step"]) for f in v if f["model"] == i]  # noqa: E731
    assert pick(pop_verdict, 1) == pick(one_verdict, 0)


# Wrong: run alone with train.diagnose_every=1 (every step sampled), the model stopped at the
# end of epoch 1 for its non-finite val/test loss gets the verdict "stopped by the trainer at
# step 1 (loss/gradient NaN/Inf); not sampled: sampling every step finds the layer (trainlab
# diagnose --every 1, or --set train.diagnose_every=1)". Step 1 was never taken (the run ended
# after epoch 1: nan_step is the step "whose loss would show it"), so with_trainer_stops
# (diagnostics/run.py) reads it as "not sampled", and advises the setting the run already has;
# following it changes nothing. Right: no advice to sample every step where every step was
# sampled (the non-finite value came from step 0's update, which was sampled).
def test_evaluation_stop_verdict_does_not_advise_the_sampling_already_set(tmp_path):
    _, verdict, summary = _run(tmp_path, "alone", [1e30])
    assert summary["models"][0]["status"] == "nan"
    (nonfinite,) = [f for f in verdict if f["check"] == "nonfinite"]
    assert nonfinite["status"] == "fail"
    assert "diagnose_every=1" not in nonfinite["message"], nonfinite["message"]
    assert "--every 1" not in nonfinite["message"], nonfinite["message"]
