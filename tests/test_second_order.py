"""Second-order methods: Newton solves a quadratic in one step; population L-BFGS equals
``torch.optim.LBFGS`` per model; full-batch L-BFGS converges and mini-batch L-BFGS does not."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer
from trainlab.optim.second_order import LBFGS, Newton

K, N, D = 3, 120, 4


def _quadratic(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(K, D, D, generator=g, dtype=torch.float64)
    a = m @ m.transpose(1, 2) + 0.1 * torch.eye(D, dtype=torch.float64)  # (K, D, D) SPD
    b = torch.randn(K, D, generator=g, dtype=torch.float64)
    return a, b


def test_newton_solves_a_quadratic_in_one_step():
    a, b = _quadratic()
    x = torch.randn(K, D, dtype=torch.float64, requires_grad=True)
    opt = create_optimizer("newton", [x])

    def closure():
        return 0.5 * torch.einsum("ki,kij,kj->k", x, a, x) - (b * x).sum(1)  # (K,)

    opt.step(closure)
    exact = torch.linalg.solve(a, b.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(x.detach(), exact, rtol=1e-10, atol=1e-12)
    g = torch.autograd.grad(closure().sum(), x)[0]
    assert g.abs().max() < 1e-10


def test_newton_damping_and_lr_per_model():
    a, b = _quadratic(1)
    x0 = torch.randn(K, D, dtype=torch.float64)
    x = x0.clone().requires_grad_()
    damping = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64)
    lr = torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
    opt = Newton([x], lr=lr, damping=damping)
    opt.step(lambda: 0.5 * torch.einsum("ki,kij,kj->k", x, a, x) - (b * x).sum(1))
    grad = torch.einsum("kij,kj->ki", a, x0) - b
    eye = torch.eye(D, dtype=torch.float64)
    for k in range(K):
        step = torch.linalg.solve(a[k] + damping[k] * eye, grad[k])
        torch.testing.assert_close(x[k].detach(), x0[k] - lr[k] * step, rtol=1e-10, atol=1e-12)


def test_newton_refuses_large_models():
    x = torch.zeros(K, 3000, requires_grad=True)
    with pytest.raises(ConfigError, match="use lbfgs"):
        Newton([x]).step(lambda: (x**2).sum(1))


def _logistic(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(K, N, D, generator=g, dtype=torch.float64)
    w_true = torch.randn(K, D, generator=g, dtype=torch.float64) * 2
    y = (torch.rand(K, N, generator=g, dtype=torch.float64) < torch.sigmoid(
        torch.einsum("knd,kd->kn", x, w_true))).to(torch.float64)  # fmt: skip
    return x, y


def _loss(w, bias, x, y, l2):
    """Per-model L2-regularized logistic loss (one model's or stacked, by broadcasting)."""
    z = (x * w.unsqueeze(-2)).sum(-1) + bias.unsqueeze(-1)
    return F.binary_cross_entropy_with_logits(z, y, reduction="none").mean(-1) + l2 * (w**2).sum(-1)


L2 = torch.tensor([1e-3, 1e-2, 0.1], dtype=torch.float64)
LRS = [1.0, 0.5, 0.8]


def test_lbfgs_equals_torch_per_model():
    x, y = _logistic()
    w = torch.zeros(K, D, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(K, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([w, bias], lr=torch.tensor(LRS, dtype=torch.float64), max_iter=12, history_size=20)

    def closure():
        opt.zero_grad()
        loss = _loss(w, bias, x, y, L2)  # (K,)
        loss.sum().backward()
        return loss.detach()

    for _ in range(3):  # several calls: the state carries over
        opt.step(closure)
    for k in range(K):
        wk = torch.zeros(D, dtype=torch.float64, requires_grad=True)
        bk = torch.zeros((), dtype=torch.float64, requires_grad=True)
        topt = torch.optim.LBFGS([wk, bk], lr=LRS[k], max_iter=12, history_size=20)

        def tclosure(wk=wk, bk=bk, topt=topt, k=k):
            topt.zero_grad()
            loss = _loss(wk, bk, x[k], y[k], L2[k])
            loss.backward()
            return loss

        for _ in range(3):
            topt.step(tclosure)
        torch.testing.assert_close(w[k].detach(), wk.detach(), rtol=1e-8, atol=1e-10)
        torch.testing.assert_close(bias[k].detach(), bk.detach(), rtol=1e-8, atol=1e-10)
    # it did optimize: the gradient is small
    assert w.grad.abs().max() < 1e-4


def test_lbfgs_needs_per_model_losses():
    w = torch.zeros(K, D, requires_grad=True)
    opt = LBFGS([w])
    with pytest.raises(ConfigError, match=r"\(3,\) tensor"):
        opt.step(lambda: (w**2).sum())
    with pytest.raises(ConfigError, match="line search"):
        LBFGS([w], line_search_fn="strong_wolfe")


def _optimum(x, y):
    """The exact minimizer by Newton's method (a few full steps)."""
    w = torch.zeros(K, D, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(K, dtype=torch.float64, requires_grad=True)
    opt = Newton([w, bias])
    for _ in range(15):
        opt.step(lambda: _loss(w, bias, x, y, L2))
    return _loss(w, bias, x, y, L2).detach()


def test_full_batch_lbfgs_works_and_mini_batch_does_not():
    """CS231n: L-BFGS works in full-batch, deterministic mode; on mini-batches it does not."""
    x, y = _logistic(2)
    best = _optimum(x, y)  # (K,)
    gaps = {}
    for mode in ("full", "mini"):
        w = torch.zeros(K, D, dtype=torch.float64, requires_grad=True)
        bias = torch.zeros(K, dtype=torch.float64, requires_grad=True)
        opt = LBFGS([w, bias], max_iter=20, history_size=10)
        gen = torch.Generator().manual_seed(0)

        def closure(mode=mode, w=w, bias=bias, opt=opt, gen=gen):
            opt.zero_grad()
            if mode == "full":
                xb, yb = x, y
            else:  # a fresh batch of 8 samples at every evaluation
                idx = torch.randint(0, N, (8,), generator=gen)
                xb, yb = x[:, idx], y[:, idx]
            loss = _loss(w, bias, xb, yb, L2)
            loss.sum().backward()
            return loss.detach()

        for _ in range(5):
            opt.step(closure)
        gaps[mode] = (_loss(w, bias, x, y, L2).detach() - best).max().item()
    assert gaps["full"] < 1e-8
    assert gaps["mini"] > 1e-2, gaps


def test_newton_honours_each_param_groups_lr_and_damping():
    """Two groups: the joint Hessian, each group's λ on its own diagonal entries, each group's
    η on its own part of the step; a group with η = 0 stays put."""
    a, b = _quadratic(2)
    x0 = torch.randn(K, D, dtype=torch.float64)
    x1 = x0[:, :2].clone().requires_grad_()
    x2 = x0[:, 2:].clone().requires_grad_()
    opt = Newton([{"params": [x1], "lr": 0.5, "damping": 1.0},
                  {"params": [x2], "lr": 0.0, "damping": 3.0}])  # fmt: skip

    def closure():
        x = torch.cat([x1, x2], dim=1)
        return 0.5 * torch.einsum("ki,kij,kj->k", x, a, x) - (b * x).sum(1)

    opt.step(closure)
    grad = torch.einsum("kij,kj->ki", a, x0) - b
    damp = torch.diag(torch.tensor([1.0, 1.0] + [3.0] * (D - 2), dtype=torch.float64))
    for k in range(K):
        step = torch.linalg.solve(a[k] + damp, grad[k])
        torch.testing.assert_close(x1[k].detach(), x0[k, :2] - 0.5 * step[:2], rtol=1e-10,
                                   atol=1e-12)  # fmt: skip
    assert torch.equal(x2.detach(), x0[:, 2:])
