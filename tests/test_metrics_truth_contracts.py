"""Review: the numbers in metrics.jsonl / summary.json recomputed by brute force.

Each test recomputes a logged number by hand (evaluating ``result.model(i)`` or the trainer's
own model on the split it names) and compares it with what the trainer wrote.
"""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F

from conftest import small_config
from trainlab.train import Trainer, train


def _rows(run_dir):
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_train_acc_and_train_loss_are_over_the_epochs_samples_not_an_unweighted_mean_of_batches():
    """``train_acc`` is an *accuracy*: the fraction of the epoch's training samples the model
    classified correctly, and ``train_loss`` the mean loss over those samples. The trainer
    averages the per-step batch means instead, so the last, smaller batch weighs as much as a
    full one. With ``batch_size = n - 1`` an epoch is one batch of n-1 samples and one of a
    single sample: that one sample makes up half of the reported ``train_acc`` and
    ``train_loss`` (here the untrained model gets 10.5% of the 1294 samples right and is
    logged at 5.3%, because the lone last sample was wrong). The learning rate is tiny, so
    the weights do not move during the epoch and the brute-force reference is simply the
    initial model on the whole training split."""
    probe = Trainer(small_config(), device="cpu")
    n = probe.data.x_train.shape[0]
    cfg = small_config(
        optim={"name": "sgd", "lr": 1e-12},
        train={"epochs": 1, "batch_size": n - 1},
        population={"seeds": [0]},
    )
    t = Trainer(cfg, device="cpu")
    start = t.pop.unstack(0)  # an MLP without dropout or batch norm: train mode = eval mode
    with torch.no_grad():
        logits = start(t.data.x_train)
    want_loss = F.cross_entropy(logits, t.data.y_train).item()
    want_acc = (logits.argmax(-1) == t.data.y_train).double().mean().item()
    row = t.train_epoch()[0]
    assert abs(row["train_acc"] - want_acc) < 1e-3, (row["train_acc"], want_acc)
    assert abs(row["train_loss"] - want_loss) < 1e-3 * want_loss, (row["train_loss"], want_loss)


def test_a_model_with_nan_outputs_gets_no_accuracy_only_the_frequency_of_class_0():
    """A model whose logits are NaN makes no prediction, so its accuracy is undefined: the
    rows must say so (null, as its ``val_loss``/``test_loss``/``train_loss`` already are), not
    log a number that no model attained. Full-batch SGD at lr 1e30 blows the weights up on the
    first step; from then on the frozen model's outputs are NaN on every validation sample
    (checked here by hand). ``torch.argmax`` returns the index of a NaN, i.e. class 0, for each
    such row, so the trainer logs ``val_acc``/``test_acc`` equal to the share of class 0 in the
    split (and a ``train_acc`` the same way) — fake accuracies that then also enter the
    progress line's mean and ``summary.json``'s ``final`` block."""
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        train={"epochs": 3, "batch_size": 5000},
        population={"seeds": [0], "grid": {"optim.lr": [0.1, 1e30]}},
    )
    t = Trainer(cfg, device="cpu")
    rows = [t.train_epoch()[1] for _ in range(3)]
    model = t.pop.unstack(1).eval()
    with torch.no_grad():
        logits = model(t.data.x_val)
    assert torch.isnan(logits).any(1).all()  # every validation row has a NaN logit
    share_of_class_0 = (t.data.y_val == 0).float().mean().item()
    last = rows[-1]
    assert last["val_loss"] != last["val_loss"]  # NaN: the loss says "no number"
    for key in ("val_acc", "test_acc"):
        value = last[key]
        assert value is None or value != value, (
            f"{key} {value} logged for NaN outputs (share of class 0 in val: {share_of_class_0})"
        )


def test_logged_lr_is_the_learning_rate_applied_not_its_float32_rounding(tmp_path):
    """``metrics.jsonl``'s ``lr`` is the rate the epoch's last step applied. The trainer keeps
    learning rates in float64 on purpose (``base_lr``, the schedule, the optimizer's
    ``group["lr"]``: "a float32 detour would round β₂ = 0.999 to 0.99900001"), but the row is
    stacked with the float32 metrics before the host read, so a constant ``optim.lr: 0.01``
    is logged as 0.009999999776482582 (and 0.001 as 0.0010000000474974513): a user who filters
    rows by ``lr == 0.01`` or plots it against the configured grid gets numbers the run never
    used."""
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.01},
        train={"epochs": 1},
        population={"seeds": [0], "grid": {"optim.lr": [0.01, 0.001]}},
    )
    result = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    rows = _rows(tmp_path / "run")
    want = {m.index: m.overrides["optim.lr"] for m in result.members}
    got = {r["model"]: r["lr"] for r in rows}
    assert got == want, (got, want)
