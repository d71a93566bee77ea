"""Review evalmetrics21: the trainer's evaluation and metrics."""

import json
import math

import torch

from conftest import batch_stats_net, small_config
from trainlab.errors import UserError
from trainlab.train import train


def test_eval_batch_size_1_with_a_batch_statistics_model_is_not_a_torch_traceback_after_training():
    # wrong: eval_batch_size 1 + a BatchNorm without running statistics trains a whole epoch, then
    # evaluate() raises torch's ValueError ("Expected more than 1 value per channel") on every
    # one-sample chunk; right: evaluate such a model in chunks of at least 2, or refuse the config
    # with a UserError before training
    torch.manual_seed(0)
    net = batch_stats_net()
    import numpy as np

    from trainlab.pretrain import arrays_dataset

    g = np.random.default_rng(0)
    x, y = g.normal(size=(120, 64)).astype(np.float32), np.arange(120) % 10
    ds = arrays_dataset(x[:100], y[:100], x[100:], y[100:], val_fraction=0.2)
    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1, "eval_batch_size": 1})
    try:
        result = train(cfg, model=net, dataset=ds, write=False, progress=False, device="cpu")
    except UserError:
        return  # a clear one-line refusal is fine too
    final = result.summary["models"][0]["final"]
    assert math.isfinite(final["val_loss"]) and math.isfinite(final["test_loss"])


def test_killed_run_report_keeps_an_early_stopped_model_early_stopped_when_a_later_row_is_nan(
    tmp_path,
):
    # wrong: report/rundata.py's replay for a run without summary.json labels a model "nan" when
    # any row is non-finite, even rows after its early stop (its frozen weights' forward, which
    # the trainer keeps logging); the trainer keeps it "early_stopped" (test_trainer_contracts:
    # an early-stopped model is never relabelled as failed); right: the same status and final
    from trainlab.report.rundata import read_run

    cfg = small_config(
        optim={"name": "adam", "lr": 0.3},
        train={"epochs": 4, "early_stopping_patience": 1},
        population={"seeds": [0, 1]},
    )
    run = tmp_path / "r"
    res = train(cfg, out=run, progress=False, device="cpu")
    want = [(m["status"], m["stopped_step"]) for m in res.summary["models"]]
    stopped = [m for m in res.summary["models"] if m["status"] == "early_stopped"]
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    # a model whose stop came before the run's end: make a frozen row after it non-finite, as
    # the trainer logs it when the frozen weights' loss overflows on some batch
    victim = next((m for m in stopped if m["stopped_step"] < res.summary["steps"]), None)
    assert victim is not None, "setup: no model stopped before the run ended"
    for r in rows:
        if r["model"] == victim["index"] and r["step"] > victim["stopped_step"]:
            r["train_loss"] = r["train_acc"] = None
            break
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "summary.json").unlink()  # as a run killed before its end has none
    got = [(m["status"], m["stopped_step"]) for m in read_run(run).model_results()]
    assert got == want
