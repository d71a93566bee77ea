"""Mutation review (mut39a) of the Trainer's numeric core (trainlab/train.py: step_on /
_step_kernels, evaluate, train_epoch, summary, _grad_norms, _gather_rows, _per_model).

Expected values come from plain torch loops over copies of the models' starting weights, from
numpy, and from the README's words, never from trainlab's own numbers."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import small_config
from trainlab import rng
from trainlab.train import Trainer


def _start_models(trainer: Trainer) -> list[torch.nn.Module]:
    """Plain copies of every model's weights before any step (the reference loops' start)."""
    return [copy.deepcopy(trainer.pop.unstack(i)).float() for i in range(trainer.k)]


def _plain_eval(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y, reduction="sum").double().item() / len(y)
        acc = (logits.argmax(-1) == y).sum().item() / len(y)
    model.train()
    return loss, acc


def _reference_epochs(trainer, models, opts, epochs, bs):
    """A plain torch loop per model over the documented data order (rng.permutations of the
    model's seed and the epoch); per epoch: the README's metrics.jsonl numbers."""
    d = trainer.data
    n = d.x_train.shape[0]
    seeds = torch.tensor([m.seed for m in trainer.members])
    out = []
    for epoch in range(epochs):
        perm = rng.permutations(seeds, epoch, n)
        rows = []
        for i, (model, opt) in enumerate(zip(models, opts, strict=True)):
            loss_sum = acc_sum = gn_sum = 0.0
            steps = 0
            for s in range(0, n, bs):
                idx = perm[i, s : s + bs]
                logits = model(d.x_train[idx])
                loss = F.cross_entropy(logits, d.y_train[idx])
                opt.zero_grad()
                loss.backward()
                gn = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in model.parameters()))
                opt.step()
                loss_sum += loss.item() * len(idx)
                acc_sum += (logits.argmax(-1) == d.y_train[idx]).sum().item()
                gn_sum += gn
                steps += 1
            vl, va = _plain_eval(model, d.x_val, d.y_val)
            tl, ta = _plain_eval(model, d.x_test, d.y_test)
            rows.append(
                {
                    "train_loss": loss_sum / n, "train_acc": acc_sum / n,
                    "val_loss": vl, "val_acc": va, "test_loss": tl, "test_acc": ta,
                    "grad_norm": gn_sum / steps, "steps": steps,
                }
            )  # fmt: skip
        out.append(rows)
    return out


def test_train_epoch_metrics_equal_a_plain_torch_loop_per_model():
    """K=2 (two seeds, two learning rates, per-model weight decay for only one of them), a
    batch size that leaves a short last batch: every metrics row, and the weights, equal plain
    torch.optim.Adam loops over the same batches (README: train_loss/acc over the epoch's
    samples before each step, grad_norm the mean over its steps, lr the rate applied)."""
    bs = 100
    cfg = small_config(
        train={"epochs": 2, "batch_size": bs},
        population={
            "seeds": [3],
            "variants": [{"optim.lr": 0.01, "optim.weight_decay": 0.05}, {"optim.lr": 0.03}],
        },
    )
    trainer = Trainer(cfg, device="cpu")
    n = trainer.data.x_train.shape[0]
    assert n % bs not in (0, 1)  # a short last batch
    assert trainer.steps_per_epoch == math.ceil(n / bs)
    models = _start_models(trainer)
    opts = [
        torch.optim.Adam(models[0].parameters(), lr=0.01, weight_decay=0.05),
        torch.optim.Adam(models[1].parameters(), lr=0.03),  # Adam's default weight decay: 0
    ]
    ref = _reference_epochs(trainer, models, opts, 2, bs)
    for epoch in range(2):
        rows = trainer.train_epoch()
        for i, row in enumerate(rows):
            want = ref[epoch][i]
            assert row["epoch"] == epoch + 1 and row["step"] == (epoch + 1) * want["steps"]
            for key in ("train_loss", "val_loss", "test_loss", "grad_norm"):
                assert row[key] == pytest.approx(want[key], rel=2e-4, abs=1e-6), (epoch, i, key)
            for key in ("train_acc", "val_acc", "test_acc"):  # a prediction or two may flip
                assert row[key] == pytest.approx(want[key], abs=2.5 / n), (epoch, i, key)
            assert row["lr"] == [0.01, 0.03][i]
    for i, model in enumerate(models):
        got = trainer.pop.unstack(i).state_dict()
        for name, t in model.state_dict().items():
            torch.testing.assert_close(got[name].float(), t, rtol=1e-4, atol=1e-5, msg=name)


def _set_member(trainer: Trainer, i: int, name: str, value: torch.Tensor) -> None:
    with torch.no_grad():
        dict(trainer.pop.named_parameters())[f"net.{name}"][i].copy_(value)


def test_a_finite_loss_with_an_overflowing_gradient_stops_the_model_at_that_step():
    """README: a model whose loss *or gradient* becomes NaN/Inf is stopped and flagged at that
    step, keeps its weights from before it; the gradient's norm is computed in float32, so
    elements beyond ~1e19 count as infinite. Model 1's output layer is scaled up so that its
    loss stays finite while its gradient's norm overflows (checked with plain torch)."""
    cfg = small_config(train={"epochs": 1, "batch_size": 32}, population={"seeds": [0, 1]})
    trainer = Trainer(cfg, device="cpu")
    idx = torch.arange(64).view(2, 32)
    trainer.step_on(idx[:, :16])  # a good step for both first: the failing one is step 1
    assert trainer.alive.tolist() == [True, True]
    w = dict(trainer.pop.named_parameters())["net.out.weight"][1].detach().clone()
    _set_member(trainer, 1, "out.weight", w * 1e21)
    # the premise, in plain torch: finite loss, float32 gradient norm inf (model 1 only)
    plain = copy.deepcopy(trainer.pop.unstack(1)).float()
    x, y = trainer.data.x_train[idx[1, 16:]], trainer.data.y_train[idx[1, 16:]]
    loss = F.cross_entropy(plain(x), y)
    loss.backward()
    norm = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(p.grad.float()) for p in plain.parameters()])
    )
    assert math.isfinite(loss.item()) and not math.isfinite(norm.item())
    before = [p.detach()[1].clone() for p in trainer.pop.parameters()]
    other = [p.detach()[0].clone() for p in trainer.pop.parameters()]
    trainer.step_on(idx[:, 16:])
    assert trainer.alive.tolist() == [True, False]
    assert trainer.nan_step.tolist() == [-1, 1]  # flagged at the step it happened in
    for p, old in zip(trainer.pop.parameters(), before, strict=True):
        assert torch.equal(p.detach()[1], old)  # no update from that gradient
    assert any(
        not torch.equal(p.detach()[0], old)
        for p, old in zip(trainer.pop.parameters(), other, strict=True)
    )  # the other model trained on


def test_summary_aggregates_are_numpy_mean_and_sample_std_of_the_finite_models():
    """README: summary.json's aggregates give mean and std (ddof 1) over the models and leave
    out NaN-stopped ones; a NaN-stopped model's status is "nan", its stopped_step the step it
    failed at, and its final metrics those of its last epoch that ended finite."""
    cfg = small_config(train={"epochs": 2, "batch_size": 128}, population={"seeds": [0, 1, 2]})
    trainer = Trainer(cfg, device="cpu")
    first = trainer.train_epoch()
    w = dict(trainer.pop.named_parameters())["net.out.weight"][2].detach().clone()
    _set_member(trainer, 2, "out.weight", torch.full_like(w, math.nan))
    second = trainer.train_epoch()
    s = trainer.summary()
    models = s["models"]
    assert [m["status"] for m in models] == ["ok", "ok", "nan"]
    assert models[2]["stopped_step"] == trainer.steps_per_epoch  # epoch 2's first step
    assert [m["stopped_step"] for m in models[:2]] == [None, None]
    assert s["nan_models"] == [
        {"index": 2, "seed": 2, "group": models[2]["group"], "step": trainer.steps_per_epoch}
    ]
    for key in ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc"):
        assert models[2]["final"][key] == first[2][key]
        finals = [second[i][key] for i in range(2)]
        assert [m["final"][key] for m in models[:2]] == finals
        agg = s["aggregates"][key]
        assert agg["n"] == 2
        assert agg["mean"] == pytest.approx(float(np.mean(finals)), rel=1e-12)
        assert agg["std"] == pytest.approx(float(np.std(finals, ddof=1)), rel=1e-9)
        assert s["groups"][0]["aggregates"][key] == agg  # one group: over its seeds
    assert s["epochs"] == 2 and s["steps"] == 2 * trainer.steps_per_epoch and s["k"] == 3


def test_clip_frac_counts_only_the_steps_a_model_takes():
    """README: clip_frac is the fraction of the epoch's steps in which clipping changed a
    model's gradient; a model stopped at the epoch's first step (its gradient overflows) takes
    no step, so none of its steps were clipped, while a tiny clip_norm clips every step of
    the other. A stopped model's row has lr 0."""
    cfg = small_config(
        train={"epochs": 1, "batch_size": 128, "clip_norm": 1e-3},
        population={"seeds": [0, 1]},
    )
    trainer = Trainer(cfg, device="cpu")
    w = dict(trainer.pop.named_parameters())["net.out.weight"][1].detach().clone()
    _set_member(trainer, 1, "out.weight", w * 1e21)
    rows = trainer.train_epoch()
    assert trainer.nan_step.tolist() == [-1, 0]
    assert rows[0]["clip_frac"] == 1.0
    assert rows[1]["clip_frac"] == 0.0
    assert rows[0]["lr"] == 0.01 and rows[1]["lr"] == 0.0


def test_a_failing_step_keeps_the_failing_models_statistics_and_updates_the_others():
    """README: a stopped model keeps its weights and batch-norm statistics from before the
    failing step; the others go on untouched: their running statistics move as a plain
    torch BatchNorm1d's forward on their batch moves them."""
    cfg = small_config(
        model={"name": "mlp", "hidden": [16], "batch_norm": True},
        train={"epochs": 1, "batch_size": 32},
        population={"seeds": [0, 1]},
    )
    trainer = Trainer(cfg, device="cpu")
    w = dict(trainer.pop.named_parameters())["net.out.weight"][1].detach().clone()
    _set_member(trainer, 1, "out.weight", w * 1e21)
    plain = copy.deepcopy(trainer.pop.unstack(0)).float()
    bufs_before = {n: b.detach().clone() for n, b in trainer.pop.named_buffers()}
    idx = torch.arange(64).view(2, 32)
    plain.train()
    with torch.no_grad():
        plain(trainer.data.x_train[idx[0]])  # the reference update of model 0's statistics
    trainer.step_on(idx)
    assert trainer.alive.tolist() == [True, False]
    want = dict(plain.named_buffers())
    checked = 0
    for name, b in trainer.pop.named_buffers():
        short = name.removeprefix("net.")
        if short.endswith(("running_mean", "running_var")):
            assert torch.equal(b[1], bufs_before[name][1]), name  # model 1: as before
            torch.testing.assert_close(b[0].float(), want[short], rtol=1e-5, atol=1e-6)
            assert not torch.equal(b[0], bufs_before[name][0]), name
            checked += 1
    assert checked == 2
