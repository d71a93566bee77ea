"""Review exact40: per-model hyperparameters step a model exactly as ``torch.optim`` steps it alone.

torch's ``number / tensor`` is ``tensor.reciprocal() * number`` (rounded twice): Adam's
``−η/(1 − β₁ᵗ)`` with per-model β₁ and AdaGrad's ``−η/(1 + (t−1)·lr_decay)`` with a per-model
decay came out an ulp off the host values ``torch.optim`` computes, so 4 of 8 models (Adam,
per-model betas, float64) ended a 30-step run bitwise apart from the same model stepped alone
by ``torch.optim``. (``βᵗ`` itself stays the device's elementwise ``pow``, which is not C's
``pow`` for every β: see ``trainlab.optim.base.cpow``.)
"""

from __future__ import annotations

import random

import pytest
import torch

from trainlab.optim import create_optimizer

K, STEPS = 8, 60


def _grads(shape):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(K, *shape, generator=gen, dtype=torch.float64) for _ in range(STEPS)]


def _population_vs_alone(name, torch_cls, per_model: dict, shared: dict):
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(K, 5, 3, generator=gen, dtype=torch.float64)
    grads = _grads((5, 3))
    p = w0.clone().requires_grad_()
    hyper = {n: tuple(torch.tensor(v, dtype=torch.float64) for v in vs) if isinstance(vs, tuple)
             else torch.tensor(vs, dtype=torch.float64) for n, vs in per_model.items()}  # fmt: skip
    opt = create_optimizer(name, [p], fused=False, **hyper, **shared)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    apart = []
    for k in range(K):
        q = w0[k : k + 1].clone().requires_grad_()
        mine = {n: tuple(v[k] for v in vs) if isinstance(vs, tuple) else vs[k]
                for n, vs in per_model.items()}  # fmt: skip
        ref = torch_cls([q], foreach=True, **mine, **shared)
        for g in grads:
            q.grad = g[k : k + 1].clone()
            ref.step()
        if not torch.equal(q.detach()[0], p.detach()[k]):
            apart.append(k)
    return apart


@pytest.mark.parametrize(
    ("name", "torch_cls"), [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)]
)
def test_adam_with_per_model_betas_is_bitwise_torch_optim_alone(name, torch_cls):
    rng = random.Random(1)
    b1 = [rng.uniform(0.5, 0.99) for _ in range(K)]
    b2 = [rng.uniform(0.9, 0.9999) for _ in range(K)]
    apart = _population_vs_alone(name, torch_cls, {"betas": (b1, b2)}, {"lr": 0.01})
    assert apart == [], f"models {apart} of {K} differ from torch.optim.{torch_cls.__name__} alone"


def test_adagrad_with_per_model_lr_decay_is_bitwise_torch_optim_alone():
    rng = random.Random(2)
    decay = [rng.uniform(0.001, 0.3) for _ in range(K)]
    apart = _population_vs_alone("adagrad", torch.optim.Adagrad, {"lr_decay": decay}, {"lr": 0.1})
    assert apart == [], f"models {apart} of {K} differ from torch.optim.Adagrad alone"


def test_cdiv_rounds_once_as_python_divides():
    from trainlab.optim.base import cdiv

    rng = random.Random(3)
    a = [rng.uniform(1e-4, 1.0) for _ in range(2000)]
    b = [rng.uniform(0.01, 1.0) for _ in range(2000)]
    bt = torch.tensor(b, dtype=torch.float64)
    for x, want in ((0.01, [0.01 / v for v in b]), (-0.3, [-0.3 / v for v in b])):
        assert torch.equal(cdiv(x, bt), torch.tensor(want, dtype=torch.float64))
    assert cdiv(a[0], b[0]) == a[0] / b[0]
    quotients = [x / y for x, y in zip(a, b, strict=True)]
    assert torch.equal(
        cdiv(torch.tensor(a, dtype=torch.float64), bt), torch.tensor(quotients, dtype=torch.float64)
    )
