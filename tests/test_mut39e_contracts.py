"""Mutation review (mut39e) of trainlab/train.py, continuing mut39a: Trainer.evaluate's chunks
and its accuracy rule, the per-epoch metrics row, summary(), _per_model.

Expected values come from plain torch on the same weights, hand computations and the README's
words, never from trainlab's own numbers."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import small_config
from trainlab.pretrain import arrays_dataset
from trainlab.train import Trainer


class _Affine(nn.Module):
    """A user module trainlab cannot stack (its own parameters, its own forward): a vmap
    population, whose evaluation chunks are never shrunk (it may normalize with the batch)."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(5)
        self.w = nn.Parameter(torch.randn(6, 3, generator=g))
        self.b = nn.Parameter(torch.randn(3, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w + self.b


@pytest.mark.filterwarnings("ignore:ignored model.hidden")
def test_a_one_sample_val_and_test_split_is_evaluated_on_that_sample():
    """A val and a test split of one sample each, for a vmap population that evaluates one
    sample fine: val/test loss and accuracy are that sample's cross-entropy and hit (plain
    torch on the template's kept weights), not an empty pass (0 loss, 0 accuracy)."""
    g = np.random.default_rng(0)
    x = g.normal(size=(41, 6)).astype(np.float32)
    y = (np.arange(41) % 3).astype(np.int64)
    xt, yt = g.normal(size=(1, 6)).astype(np.float32), np.array([2], dtype=np.int64)
    ds = arrays_dataset(x, y, xt, yt, val_fraction=1 / 41)  # round(1/41 · 41) = 1 val row
    model = _Affine()
    cfg = small_config(init={"scheme": "keep"}, population={"seeds": [0]})
    trainer = Trainer(cfg, device="cpu", model=copy.deepcopy(model), dataset=ds)
    assert trainer.pop.mode != "stacked"
    for split in ("val", "test"):
        xs = getattr(trainer.data, f"x_{split}")
        ys = getattr(trainer.data, f"y_{split}")
        assert xs.shape[0] == 1
        with torch.no_grad():
            logits = model(xs.float())
            want_loss = F.cross_entropy(logits, ys).item()
            want_acc = float(logits.argmax(-1).item() == ys.item())
        loss, acc = trainer.evaluate(split)
        assert loss.tolist() == [pytest.approx(want_loss, rel=1e-5)], split
        assert acc.tolist() == [want_acc], split
        assert want_loss > 0.01  # the premise: an empty pass (0) would differ


def test_evaluate_gives_no_accuracy_where_the_loss_is_not_finite():
    """README: an accuracy is null where the loss is not finite (NaN logits would argmax to
    class 0 and count the class-0 samples as hits). Model 1's output weights are NaN."""
    cfg = small_config(population={"seeds": [0, 1]})
    trainer = Trainer(cfg, device="cpu")
    w = dict(trainer.pop.named_parameters())["net.out.weight"]
    with torch.no_grad():
        w[1].fill_(math.nan)
    y = trainer.data.y_val
    assert bool((y == 0).any())  # the premise: class 0 would score hits
    loss, acc = trainer.evaluate("val")
    assert math.isfinite(loss[0].item()) and 0 < acc[0].item() <= 1
    assert math.isnan(loss[1].item())
    assert math.isnan(acc[1].item())


def test_the_logged_lr_is_the_rate_of_the_epochs_last_step_under_a_per_epoch_step_schedule():
    """README: metrics.jsonl's lr is the rate of the epoch's last step. A per-epoch step
    schedule (lr · 0.5^epoch, torch StepLR with step_size 1): epoch e's steps all ran at
    0.01 · 0.5^(e-1), by hand, not at the next epoch's rate."""
    cfg = small_config(
        train={"epochs": 3, "batch_size": 256},
        schedule={"name": "step", "step_size": 1, "gamma": 0.5},
    )
    trainer = Trainer(cfg, device="cpu")
    for e in range(1, 4):
        (row,) = trainer.train_epoch()
        assert row["lr"] == pytest.approx(0.01 * 0.5 ** (e - 1), rel=1e-12), e


def test_an_early_stopped_models_rows_log_lr_zero():
    """README: a stopped model keeps a row per epoch with lr 0 while others train. Model 1's
    lr (1e-30) moves no float32 weight, so its val_loss cannot improve after epoch 1 and with
    patience 1 it stops at epoch 2; its epoch-3 row then logs lr 0, not its scheduled 1e-30."""
    cfg = small_config(
        train={"epochs": 3, "batch_size": 128, "early_stopping_patience": 1},
        population={"seeds": [0], "variants": [{"optim.lr": 0.01}, {"optim.lr": 1e-30}]},
    )
    trainer = Trainer(cfg, device="cpu")
    rows = [trainer.train_epoch() for _ in range(3)]
    assert rows[0][1]["val_loss"] == rows[1][1]["val_loss"]  # the premise: no improvement
    assert trainer.stopped_step[1] == 2 * trainer.steps_per_epoch
    assert rows[1][1]["lr"] == 1e-30  # its last trained epoch ran at its rate
    assert rows[2][1]["lr"] == 0.0
    assert rows[2][0]["lr"] == 0.01


def _plain_steps(trainer, models, opts, idx):
    for step in range(idx.shape[0]):
        for i, (model, opt) in enumerate(zip(models, opts, strict=True)):
            b = idx[step, i]
            loss = F.cross_entropy(model(trainer.data.x_train[b]), trainer.data.y_train[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        trainer.step_on(idx[step])


def _assert_same_weights(trainer, models):
    for i, model in enumerate(models):
        got = trainer.pop.unstack(i).state_dict()
        for name, t in model.state_dict().items():
            torch.testing.assert_close(got[name].float(), t, rtol=1e-5, atol=1e-6, msg=name)


def test_sgd_momentum_set_for_only_one_model_gives_the_others_torchs_default():
    """README: optim.momentum may be set per model (population.variants); a model whose
    variant leaves it out takes the optimizer's default (torch.optim.SGD: momentum 0). Three
    steps of each equal plain torch.optim.SGD loops."""
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        population={"seeds": [0], "variants": [{}, {"optim.momentum": 0.9}]},
    )
    trainer = Trainer(cfg, device="cpu")
    models = [copy.deepcopy(trainer.pop.unstack(i)).float() for i in range(2)]
    opts = [
        torch.optim.SGD(models[0].parameters(), lr=0.1),
        torch.optim.SGD(models[1].parameters(), lr=0.1, momentum=0.9),
    ]
    idx = torch.arange(3 * 2 * 32).view(3, 2, 32)
    _plain_steps(trainer, models, opts, idx)
    _assert_same_weights(trainer, models)


def test_per_model_adam_betas_equal_torch_adam_with_each_models_pair():
    """README: optim.betas may be set per model; each model steps as torch.optim.Adam with
    its own (beta1, beta2)."""
    cfg = small_config(
        population={
            "seeds": [0],
            "variants": [{"optim.betas": [0.5, 0.9]}, {"optim.betas": [0.9, 0.999]}],
        },
    )
    trainer = Trainer(cfg, device="cpu")
    models = [copy.deepcopy(trainer.pop.unstack(i)).float() for i in range(2)]
    opts = [
        torch.optim.Adam(models[0].parameters(), lr=0.01, betas=(0.5, 0.9)),
        torch.optim.Adam(models[1].parameters(), lr=0.01, betas=(0.9, 0.999)),
    ]
    idx = torch.arange(3 * 2 * 32).view(3, 2, 32)
    _plain_steps(trainer, models, opts, idx)
    _assert_same_weights(trainer, models)


@pytest.mark.parametrize("bad", [False, True])
def test_a_per_model_beta_given_as_a_bool_is_refused(bad):
    """optim.betas must be a pair of numbers (as alone): a bool in one model's pair is a
    ConfigError, not beta 0 or 1."""
    from trainlab.errors import ConfigError

    cfg = small_config(
        population={
            "seeds": [0],
            "variants": [{"optim.betas": [bad, 0.999]}, {"optim.betas": [0.9, 0.999]}],
        },
    )
    with pytest.raises(ConfigError, match="betas"):
        Trainer(cfg, device="cpu")


def test_step_on_with_negative_indices_takes_the_rows_torch_indexing_takes():
    """step_on's idx rows index the training split as ``x[idx]`` does: a negative index counts
    from the end. One Adam step on idx - N equals torch.optim.Adam on x_train[idx - N]."""
    cfg = small_config(population={"seeds": [0, 1]})
    trainer = Trainer(cfg, device="cpu")
    n = trainer.data.x_train.shape[0]
    idx = torch.arange(64).view(2, 32) + 7 - n  # all negative
    models = [copy.deepcopy(trainer.pop.unstack(i)).float() for i in range(2)]
    opts = [torch.optim.Adam(m.parameters(), lr=0.01) for m in models]
    _plain_steps(trainer, models, opts, idx[None])
    _assert_same_weights(trainer, models)
