"""Mutation review (mut39d) of trainlab.optim.second_order (per-model L-BFGS, Newton) and
trainlab.optim.base (per-model hyperparameters, range checks). Expected values come from
torch.optim.LBFGS / torch.optim.SGD / RMSprop run on each model separately, numpy/scipy, or the
docstrings' rules, never from trainlab itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer
from trainlab.optim.second_order import LBFGS, Newton

D = 3
# per-model targets and scales: large scales give gradients with ‖g‖₁ well above 1
A = torch.tensor([[1.0, -2.0, 0.5], [-1.0, 0.5, 2.0]], dtype=torch.float64)
S = torch.tensor([[30.0, 5.0, 12.0], [8.0, 40.0, 3.0]], dtype=torch.float64)


def _f(theta, a, s):
    """A smooth non-quadratic loss per model: ½ Σ s (θ − a)² + 0.1 Σ θ⁴ (θ: (..., D))."""
    return 0.5 * (s * (theta - a) ** 2).sum(-1) + 0.1 * (theta**4).sum(-1)


def _population(lr, calls, **kw):
    theta = torch.zeros(2, D, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([theta], lr=lr, **kw)
    n_closure = [0]

    def closure():
        n_closure[0] += 1
        opt.zero_grad()
        loss = _f(theta, A, S)
        loss.sum().backward()
        return loss.detach()

    for _ in range(calls):
        opt.step(closure)
    return theta.detach(), n_closure[0], opt


def _torch(m, lr, calls, **kw):
    theta = torch.zeros(D, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([theta], lr=lr, **kw)
    n_closure = [0]

    def closure():
        n_closure[0] += 1
        opt.zero_grad()
        loss = _f(theta, A[m], S[m])
        loss.backward()
        return loss

    for _ in range(calls):
        opt.step(closure)
    return theta.detach(), n_closure[0], opt


# kills second_order.py:95 lr default 1.0, :96 max_iter 20, :100 history_size 100 (and the
# other defaults): the population's defaults are torch.optim.LBFGS's, as the docstring says
def test_lbfgs_defaults_are_torch_lbfgs_defaults():
    p = torch.zeros(2, 3, requires_grad=True)
    ours = LBFGS([p]).param_groups[0]
    ref = torch.optim.LBFGS([torch.zeros(3, requires_grad=True)]).param_groups[0]
    for key in ("lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change",
                "history_size"):  # fmt: skip
        assert float(ours[key]) == float(ref[key]), key


# kills second_order.py:112 `max_iter < 1` -> `< 0` and `history_size < 1` -> `< 0`, and
# :54 `value != int(value)` -> False: both must be whole numbers ≥ 1 ("must be ≥ 1")
def test_lbfgs_max_iter_and_history_size_are_whole_numbers_at_least_one():
    p = torch.zeros(2, 3, requires_grad=True)
    LBFGS([p], max_iter=1, history_size=1)  # the bound itself is fine
    for kw in ({"max_iter": 0}, {"history_size": 0}):
        with pytest.raises(ConfigError, match="≥ 1"):
            LBFGS([p], **kw)
    for kw in ({"max_iter": 2.5}, {"history_size": 2.5}):
        with pytest.raises(ConfigError, match="whole number"):
            LBFGS([p], **kw)


# kills second_order.py:277 `flat_grad.abs().sum(1)` -> `.amax(1)`: the first step is
# min(1, 1/‖g‖₁)·lr as torch's; here ‖g‖₁ is far above 1 so the norm matters
def test_lbfgs_first_step_uses_the_l1_norm_of_a_large_gradient():
    for max_iter in (1, 6):
        got, _, _ = _population(1.0, 2, max_iter=max_iter)
        for m in range(2):
            ref, _, _ = _torch(m, 1.0, 2, max_iter=max_iter)
            torch.testing.assert_close(got[m], ref, rtol=1e-9, atol=1e-12)


# kills second_order.py:90 lr (0.0, ...) lo_open False -> True: lr 0 is allowed (the trainer
# gives a stopped model lr 0); that model stays put, the other runs as torch's
def test_lbfgs_model_with_lr_zero_stays_put_and_the_other_matches_torch():
    lr = torch.tensor([0.0, 1.0], dtype=torch.float64)
    got, _, _ = _population(lr, 2, max_iter=5)
    assert torch.equal(got[0], torch.zeros(D, dtype=torch.float64))
    ref, _, _ = _torch(1, 1.0, 2, max_iter=5)
    torch.testing.assert_close(got[1], ref, rtol=1e-9, atol=1e-12)


# kills second_order.py:280 `torch.where(active, t_new, t)` -> `t_new`: a model that stopped
# (its step ≤ tolerance_change) keeps its own first step size t = min(1, 1/‖g‖₁)·lr while
# the others iterate on; its next call builds its curvature pair s = t·d from that t
def test_lbfgs_stopped_model_keeps_its_step_size_into_the_next_call():
    lrs = [1e-3, 1.0]
    kw = dict(max_iter=6, tolerance_change=1e-2)
    got, _, _ = _population(torch.tensor(lrs, dtype=torch.float64), 3, **kw)
    for m in range(2):
        ref, _, _ = _torch(m, lrs[m], 3, **kw)
        torch.testing.assert_close(got[m], ref, rtol=1e-9, atol=1e-12)


# kills second_order.py:288 `if n_iter != max_iter` -> always: like torch's fixed-step rule,
# the last iteration does not evaluate the closure again (each evaluation is a training step)
def test_lbfgs_closure_evaluations_per_call_match_torch():
    _, n_ours, opt = _population(1.0, 2, max_iter=5, tolerance_change=0.0, tolerance_grad=0.0)
    _, n_ref, topt = _torch(0, 1.0, 2, max_iter=5, tolerance_change=0.0, tolerance_grad=0.0)
    assert n_ours == n_ref == 10
    st = opt.state[opt.param_groups[0]["params"][0]]
    tst = topt.state[topt.param_groups[0]["params"][0]]
    assert st["func_evals"] == tst["func_evals"]


# kills second_order.py:166 (a parameter without .grad read as zeros -> `p.grad` always): a
# parameter the loss does not use has no gradient; torch's LBFGS reads it as zero and leaves
# it where it is
def test_lbfgs_parameter_without_gradient_is_read_as_zero():
    theta = torch.zeros(2, D, dtype=torch.float64, requires_grad=True)
    unused = torch.ones(2, 4, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([theta, unused], max_iter=5)

    def closure():
        opt.zero_grad()
        loss = _f(theta, A, S)
        loss.sum().backward()
        return loss.detach()

    opt.step(closure)
    assert torch.equal(unused.detach(), torch.ones(2, 4, dtype=torch.float64))
    for m in range(2):
        ref, _, _ = _torch(m, 1.0, 1, max_iter=5)
        torch.testing.assert_close(theta[m].detach(), ref, rtol=1e-9, atol=1e-12)


# kills second_order.py:368 max_params 2048 -> 1024 and :385 `n > limit` -> `n >= limit`:
# "refuse models with more parameters than this", default 2048 (the signature)
def test_newton_max_params_default_is_2048_inclusive():
    for n, ok in ((2048, True), (2049, False)):
        w = torch.zeros(2, n, dtype=torch.float64, requires_grad=True)
        opt = Newton([w], damping=1.0)
        c = torch.ones(2, n, dtype=torch.float64)

        def closure(w=w, c=c):
            return (c * w).sum(-1)  # linear: H = 0, the damped step is −g/λ = −c

        if ok:
            opt.step(closure)
            assert torch.equal(w.detach(), -c)
        else:
            with pytest.raises(ConfigError, match="max_params=2048"):
                opt.step(closure)


# kills second_order.py:384 `min(` -> `max(`: the limit is "the smallest over groups"
def test_newton_max_params_is_the_smallest_over_groups():
    w = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = Newton([{"params": [w], "max_params": 100}, {"params": [b], "max_params": 3}])
    with pytest.raises(ConfigError, match="max_params=3"):
        opt.step(lambda: ((w - 1) ** 2).sum(-1) + (b - 1) ** 2)


# kills second_order.py:425 `n * eps` -> `eps` and `<=` -> `<`: singular in floating point is
# an LU pivot of the equilibrated H + λI "at most n·ε times the largest". H = [[1, c], [c, 1]]
# with c = 1 − ε (rows already of max 1, so equilibration leaves it) has pivots 1 and
# 1 − fl(c·c) = 2ε exactly (checked with scipy): at n = 2 that is n·ε, singular: NaN.
def test_newton_pivot_of_exactly_n_eps_is_singular():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    eps = float(np.finfo(np.float64).eps)
    c = 1.0 - eps
    h = np.array([[1.0, c], [c, 1.0]])
    _, u = scipy_linalg.lu(h, permute_l=True)
    piv = np.abs(np.diag(u))
    if piv.min() != 2 * eps * piv.max():  # (an FMA-fused LU rounds the pivot differently)
        pytest.skip(f"this LAPACK's pivots are {piv.tolist()}, not exactly 1 and 2ε")
    hm = torch.tensor(h)
    w = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    opt = Newton([w])
    g0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    opt.step(lambda: 0.5 * torch.einsum("ki,ij,kj->k", w, hm, w) - (w * g0).sum(-1))
    assert torch.isnan(w.detach()).all()


# kills base.py:125 `(t > hi)` -> `(t >= hi)` for closed upper bounds: momentum, dampening and
# alpha lie in [0, 1], 1 included (torch.optim accepts them); one step matches torch's
def test_closed_upper_bound_of_one_is_accepted_and_steps_like_torch():
    g = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)
    for name, cls, kw in (
        ("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 1.0, "dampening": 1.0}),
        ("rmsprop", torch.optim.RMSprop, {"lr": 0.1, "alpha": 1.0, "momentum": 1.0}),
    ):
        p = torch.ones(2, 2, dtype=torch.float64, requires_grad=True)
        opt = create_optimizer(name, [p], **kw)
        for _ in range(2):
            p.grad = g.clone()
            opt.step()
        for m in range(2):
            q = torch.ones(2, dtype=torch.float64, requires_grad=True)
            topt = cls([q], **kw)
            for _ in range(2):
                q.grad = g[m].clone()
                topt.step()
            torch.testing.assert_close(p[m].detach(), q.detach(), rtol=1e-12, atol=0)


# kills base.py:235 `value.shape[0] != k` -> `< k`: a per-model value is a tensor of length K,
# a longer one is refused
def test_per_model_tensor_longer_than_k_is_refused():
    p = torch.zeros(3, 2, requires_grad=True)
    with pytest.raises(ConfigError, match=r"shape \(4,\) but the population has K=3"):
        create_optimizer("sgd", [p], lr=torch.tensor([0.1, 0.1, 0.1, 0.1]))


# kills base.py:165 `abs(x) > float32 max` -> `>=`: a float32 value is shown by its shortest
# float32 text; float32's largest finite value is one
def test_error_shows_float32_max_by_its_float32_text():
    p = torch.zeros(2, 2, requires_grad=True)
    big = float(np.finfo(np.float32).max)
    with pytest.raises(ConfigError) as err:
        create_optimizer("sgd", [p], lr=torch.tensor([-1.0, big], dtype=torch.float32))
    assert str(np.float32(big)) in str(err.value)
    assert repr(big) not in str(err.value)


# kills base.py:815 `top > 1.0` -> `>= 1.0`: the one lr-scaled fused call is taken when "no
# lr exceeds 1", so a largest lr of exactly 1 still takes it
def test_lr_grid_topping_at_exactly_one_takes_one_lr_scaled_call(monkeypatch):
    from trainlab.optim.base import has_cpu_kernel

    if not has_cpu_kernel("_fused_adam_"):
        pytest.skip("this torch has no fused CPU Adam")
    calls = []
    real = torch._fused_adam_
    monkeypatch.setattr(
        torch, "_fused_adam_", lambda p, *a, **kw: calls.append(len(p)) or real(p, *a, **kw)
    )
    p = torch.zeros(4, 10, requires_grad=True)
    p.grad = torch.ones(4, 10)
    create_optimizer("adam", [p], lr=torch.tensor([0.25, 0.5, 1.0, 0.0])).step()
    assert calls == [1]
    # Adam's first step moves every weight by −lr·sign(g)
    torch.testing.assert_close(p[:, 0].detach(), torch.tensor([-0.25, -0.5, -1.0, 0.0]))
