"""Mutation review (mut36m) of trainlab.optim.lr_find: the stop boundary, the suggestion rules
and the recorded curve of a stopped model. Expected values are hand computations of the rules
written in the module docstring (s_i > diverge·min_{j≤i} s_j; steep = argmin of central
differences in log10(lr) over 1 ≤ i < max(i_min, 2), negative only; min/10 = lrs[i_min]/10,
None at i_min = 0; NaN counts as +inf; < 3 points: no suggestion)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trainlab.optim.lr_find import first_stop, lr_find, suggest

LRS = [1e-3, 1e-2, 1e-1, 1.0, 10.0]  # log10: -3..1, central-difference denominator 2


# kills lr_find.py:73 `v > diverge * best` -> `v >= diverge * best`: the rule is strict (">"),
# so a point at exactly 4x the best (1 -> 4, exact in binary) does not stop; a zero loss
# (0 > 4*0 is False) must not stop the test at its first point either.
def test_first_stop_is_strict_at_exactly_diverge_times_best():
    assert first_stop([1.0, 4.0, 2.0], [0.1, 0.2, 0.3], 4.0) is None
    assert first_stop([0.0, 0.0, 0.0], [0.1, 0.2, 0.3], 4.0) is None
    assert first_stop([1.0, 4.5], [0.1, 0.2], 4.0) == (1, "smoothed loss > 4× best at lr 0.2")


# kills lr_find.py:95 `max(i_min, 2)` -> `i_min + 1` and lr_find.py:99 `len(ys) - 1` ->
# `len(ys) - 2`. By hand: i_min = 3, centres 1 and 2 only: slopes (9-10)/2 = -0.5 and
# (1-5)/2 = -2 -> steep = lrs[2] = 0.1 (centre 3 = (1.5-9)/2 would use a point past the min).
def test_steep_uses_centres_before_the_minimum_only():
    out = suggest(LRS, [10.0, 5.0, 9.0, 1.0, 1.5])
    assert out["steep"] == pytest.approx(0.1)
    assert out["min/10"] == pytest.approx(0.1)


# kills lr_find.py:101 central difference -> one-sided `(ys[i+1] - ys[i])`. By hand, central:
# (1.9-10)/2 = -4.05 at i=1, (1-2)/2 = -0.5 at i=2 -> lrs[1]; one-sided would pick lrs[2].
def test_steep_is_a_central_difference():
    assert suggest(LRS, [10.0, 2.0, 1.9, 1.0, 3.0])["steep"] == pytest.approx(1e-2)


# kills lr_find.py:95 `max(i_min, 2)` -> `max(i_min, 1)`: minimum at i=1 still has the first
# three points: slope at i=1 = (2.5-3)/2 = -0.25 < 0 -> steep = lrs[1]; min/10 = 1e-2/10.
def test_steep_with_the_minimum_at_the_second_point():
    out = suggest(LRS, [3.0, 1.0, 2.5, 4.0, 5.0])
    assert out["steep"] == pytest.approx(1e-2)
    assert out["min/10"] == pytest.approx(1e-3)


# kills lr_find.py:102 `s < 0` -> `s <= 0`: a flat then rising curve never falls -> steep None
# (docstring: "None when the smoothed loss never falls"); i_min = 0 -> min/10 None.
def test_a_flat_start_gives_no_steep_point():
    assert suggest(LRS, [1.0, 1.0, 1.0, 2.0, 3.0]) == {"steep": None, "min/10": None}


# kills lr_find.py:91 `len(vals) < 3` -> `< 2`: "fewer than three points give no suggestion".
def test_two_points_give_no_suggestion():
    assert suggest(LRS[:2], [2.0, 1.0]) == {"steep": None, "min/10": None}


# kills lr_find.py:90 NaN -> +inf changed to -inf: NaN "never the minimum": i_min = 2,
# min/10 = 0.1/10; steep: slope at i=1 = (1-3)/2 < 0 -> lrs[1].
def test_nan_points_are_never_the_minimum():
    out = suggest(LRS, [3.0, 2.0, 1.0, math.nan, math.nan])
    assert out["min/10"] == pytest.approx(0.01)
    assert out["steep"] == pytest.approx(1e-2)


# kills lr_find.py:291 `host[m][: j + 1]` -> `host[m][: j]`: a stopped model's curve ends AT
# the step that stopped it. Checked with numpy on the recorded raw losses: the debiased EMA
# (beta 0.9) of the returned losses has its last point > 4x the best before it, and no earlier
# point does (the smoothing and the rule recomputed independently of trainlab).
def test_a_diverged_curve_ends_at_its_stopping_point():
    from trainlab.config import parse_config
    from trainlab.data.datasets import Dataset

    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (128,), generator=torch.Generator().manual_seed(1))
    x = torch.randn(128, 4, generator=g)  # labels independent of x: the loss cannot reach 0
    ds = Dataset("noise", x, y, x[:16], y[:16], x[:16], y[:16], (4,), 2)
    cfg = parse_config(
        {
            "optim": {"name": "adam", "lr": 1e-3},
            "model": {"name": "mlp", "hidden": [8]},
            "train": {"epochs": 1, "batch_size": 32},
            "population": {"seeds": [0]},
        }
    )
    res = lr_find(
        cfg, start_lr=1e-2, end_lr=1e4, num_steps=60, check_every=7, device="cpu", dataset=ds
    )
    raw = np.array(res.losses[0], dtype=float)
    assert res.stop_reasons[0].startswith("smoothed loss > 4")
    n = len(raw)
    assert n < 60
    w = 0.9
    a, sm = 0.0, []
    for i, v in enumerate(raw):
        a = w * a + (1 - w) * v
        sm.append(a / (1 - w ** (i + 1)))
    sm = np.array(sm)
    best = np.minimum.accumulate(sm)
    over = sm > 4 * best
    assert over[-1] and not over[:-1].any()
    assert f"{res.lrs[n - 1]:.3g}" in res.stop_reasons[0]


# ---- second_order.LBFGS against torch.optim.LBFGS (the independent reference) ----
def _torch_lbfgs_vs_population(x, y, l2, lr, calls, **kw):
    import torch.nn.functional as F

    from trainlab.optim.second_order import LBFGS

    k, d = x.shape[0], x.shape[2]

    def loss_fn(w, b, x, y, l2):
        z = (x * w.unsqueeze(-2)).sum(-1) + b.unsqueeze(-1)
        return F.binary_cross_entropy_with_logits(z, y, reduction="none").mean(-1) + l2 * (
            w**2
        ).sum(-1)

    w = torch.zeros(k, d, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([w, b], lr=lr, **kw)

    def closure():
        opt.zero_grad()
        loss = loss_fn(w, b, x, y, l2)
        loss.sum().backward()
        return loss.detach()

    for _ in range(calls):
        opt.step(closure)
    for m in range(k):
        wk = torch.zeros(d, dtype=torch.float64, requires_grad=True)
        bk = torch.zeros((), dtype=torch.float64, requires_grad=True)
        topt = torch.optim.LBFGS([wk, bk], lr=lr, **kw)

        def tclosure(wk=wk, bk=bk, topt=topt, m=m):
            topt.zero_grad()
            loss = loss_fn(wk, bk, x[m], y[m], l2[m])
            loss.backward()
            return loss

        for _ in range(calls):
            topt.step(tclosure)
        torch.testing.assert_close(w[m].detach(), wk.detach(), rtol=1e-8, atol=1e-10)
        torch.testing.assert_close(b[m].detach(), bk.detach(), rtol=1e-8, atol=1e-10)


def _data(k=2, n=80, d=4):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(k, n, d, generator=g, dtype=torch.float64)
    wt = torch.randn(k, d, generator=g, dtype=torch.float64) * 2
    p = torch.sigmoid(torch.einsum("knd,kd->kn", x, wt))
    y = (torch.rand(k, n, generator=g, dtype=torch.float64) < p).to(torch.float64)
    return x, y, torch.tensor([1e-3, 1e-2], dtype=torch.float64)


# kills second_order.py:115 `max_iter * 5 // 4` -> `+ 1` and second_order.py:298
# `current_evals >= max_eval` -> `>`: with max_iter=3 torch's default max_eval is 3*5//4 = 3,
# so torch stops each call after 2 iterations (its `current_evals >= max_eval` break); the
# population must match torch.optim.LBFGS exactly.
def test_lbfgs_default_max_eval_matches_torch_for_small_max_iter():
    x, y, l2 = _data()
    _torch_lbfgs_vs_population(x, y, l2, 1.0, 4, max_iter=3)


# kills second_order.py:239 `count == m_hist` -> `count == m_hist + 1`: with history_size=2
# each model must drop its oldest pair as torch does (12 iterations x 3 calls fill it often).
def test_lbfgs_short_history_matches_torch():
    x, y, l2 = _data()
    _torch_lbfgs_vs_population(x, y, l2, 1.0, 3, max_iter=12, history_size=2)


# kills second_order.py:302 `<= tol_change` -> `<` and :303 `< tol_change` -> `<=`: torch's
# stopping tests are `max|d·t| <= tolerance_change` and `|loss − prev_loss| < tolerance_change`.
# A linear loss c·θ from θ = 0 makes both numbers exact: g = c, t = min(1, 1/c)·lr, step = c·t,
# loss change = c²·t. c=2, lr=1: step 1.0, change 2.0 -> tol 1.0 stops after one iteration
# (θ = -1). c=0.5: step 0.5, change 0.25 -> tol 0.25 must NOT stop (0.25 < 0.25 is false).
@pytest.mark.parametrize("c, tol", [(2.0, 1.0), (0.5, 0.25)])
def test_lbfgs_tolerance_change_boundaries_match_torch(c, tol):
    from trainlab.optim.second_order import LBFGS

    th = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([th], lr=1.0, max_iter=5, tolerance_change=tol)

    def closure():
        opt.zero_grad()
        loss = c * th[:, 0]
        loss.sum().backward()
        return loss.detach()

    opt.step(closure)
    tk = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.LBFGS([tk], lr=1.0, max_iter=5, tolerance_change=tol)

    def tclosure():
        topt.zero_grad()
        loss = c * tk[0]
        loss.backward()
        return loss

    topt.step(tclosure)
    if c == 2.0:
        assert tk.item() == -1.0  # torch stopped after one step of 1.0
    else:
        assert tk.item() < -0.5  # torch went on past the first step of 0.5
    assert th[0, 0].item() == pytest.approx(tk.item(), rel=1e-12)


# kills second_order.py:203 and :294 `amax(1) <= tol_grad` -> `<`: torch's convergence test is
# `max|g| <= tolerance_grad`. (a) loss 0.5·θ with tolerance_grad 0.5: converged at the start, no
# move. (b) loss ½θ² from θ = 4: g = 4, t = min(1, 1/4) = 0.25, step to θ = 3 where g = 3 =
# tolerance_grad: torch stops there (exact in binary).
@pytest.mark.parametrize("kind", ["start", "later"])
def test_lbfgs_tolerance_grad_is_inclusive_like_torch(kind):
    from trainlab.optim.second_order import LBFGS

    x0, tol = (0.0, 0.5) if kind == "start" else (4.0, 3.0)

    def f(t):
        return 0.5 * t if kind == "start" else 0.5 * t**2

    th = torch.full((1, 1), x0, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([th], lr=1.0, max_iter=6, tolerance_grad=tol)

    def closure():
        opt.zero_grad()
        loss = f(th[:, 0])
        loss.sum().backward()
        return loss.detach()

    opt.step(closure)
    tk = torch.full((1,), x0, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.LBFGS([tk], lr=1.0, max_iter=6, tolerance_grad=tol)

    def tclosure():
        topt.zero_grad()
        loss = f(tk[0])
        loss.backward()
        return loss

    topt.step(tclosure)
    assert tk.item() == (0.0 if kind == "start" else 3.0)
    assert th[0, 0].item() == tk.item()


# kills second_order.py:422 equilibration `rows.rsqrt()` -> ones: the docstring promises that a
# regular but badly scaled H (weights of scales 1e4 and 1) is not called singular. In float32,
# H = diag(1e8, 1): unscaled pivots 1 and 1e8 have ratio 1e-8 < 2·eps (2.4e-7). One full Newton
# step on ½(1e8·a² + b²) from (1, 1) lands on the minimizer (0, 0) (hand computation).
def test_newton_badly_scaled_regular_hessian_is_solved():
    from trainlab.optim.second_order import Newton

    th = torch.ones(1, 2, dtype=torch.float32, requires_grad=True)
    opt = Newton([th])

    def closure():
        return 0.5 * (1e8 * th[:, 0] ** 2 + th[:, 1] ** 2)

    opt.step(closure)
    assert torch.isfinite(th).all()
    torch.testing.assert_close(th.detach(), torch.zeros(1, 2), atol=1e-6, rtol=0)


# kills lr_find.py:367 `math.isinf(v)` -> `not math.isfinite(v)`: LRSweepResult documents
# `diverged` as the LRs stopped for NaN/Inf, reported with an *infinite* training loss; a NaN
# (a summary value missing, written as JSON null) is not a divergence. best_lr by hand:
# val losses [0.4, 0.3, inf] -> lr 1.0.
def test_lr_sweep_result_diverged_is_the_infinite_losses_only():
    from trainlab.optim.lr_find import LRSweepResult

    r = LRSweepResult([0.1, 1.0, 10.0], [0.5, math.nan, math.inf], [0.4, 0.3, math.inf], None)
    assert r.diverged == [10.0]
    assert r.best_metric == "val_loss" and r.best_lr == 1.0
