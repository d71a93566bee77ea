"""Mutation review (mut36j) of trainlab.optim's _foreach paths (fused=False), which the
torch-equivalence tests mostly reach with per-model tensors only, and of clip.py's boundaries.

Every expected value comes from torch.optim / torch.nn.utils run on each model alone."""

from __future__ import annotations

import pytest
import torch

from trainlab.optim import clip_grad_norm_, clip_grad_value_, create_optimizer

K = 3
SHAPES = [(4, 3), (4,)]


def _params() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    return [torch.randn(K, *s, generator=g, dtype=torch.float64) for s in SHAPES]


def _grad(theta: torch.Tensor, step: int) -> torch.Tensor:
    # elementwise (a model's gradient is the same alone or in the stack), varies per step
    return 1.5 * theta + torch.sin(3.0 * theta + step) + 0.3 * torch.cos(0.7 * step * theta)


def _compare(name: str, torch_cls: type, kw: dict, steps: int = 12) -> None:
    ours = [p.clone() for p in _params()]
    opt = create_optimizer(name, ours, **kw)
    refs = [[p[m].clone() for p in _params()] for m in range(K)]
    tkw = {key: v for key, v in kw.items() if key != "fused"}
    ropts = [torch_cls(r, **tkw) for r in refs]
    for step in range(steps):
        for p in ours:
            p.grad = _grad(p, step)
        opt.step()
        for r, ro in zip(refs, ropts, strict=True):
            for q in r:
                q.grad = _grad(q, step)
            ro.step()
    for m in range(K):
        for p, q in zip(ours, refs[m], strict=True):
            torch.testing.assert_close(p[m], q, rtol=1e-12, atol=1e-12)


# Kills (foreach path, scalar hyperparameters, fused=False):
#   sgd.py:258 `one_minus_damp = 1.0 - damp` -> `1.0` (scalar dampening ignored)
#   sgd.py maximize's `_foreach_neg` dropped; weight-decay / nesterov terms altered.
# Expected: torch.optim.SGD on each model alone (same hyperparameters).
@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.2, "maximize": True},
        {"lr": 0.05, "momentum": 0.0, "weight_decay": 0.3},
    ],
)
def test_sgd_foreach_scalar_hypers_match_torch(kw):
    _compare("sgd", torch.optim.SGD, {**kw, "fused": False}, steps=12)


# Kills rmsprop.py mutants on the scalar path: α's (1 − α) weight in s and in the centered c,
# the − c² of the centered variant, −lr sign/size, the L2 weight, ε.
# Expected: torch.optim.RMSprop per model (eps large so that ε matters).
@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.01, "alpha": 0.7, "eps": 0.05, "weight_decay": 0.1, "centered": True},
        {"lr": 0.01, "alpha": 0.8, "eps": 0.05, "momentum": 0.6, "centered": True},
        {"lr": 0.01, "alpha": 0.9, "eps": 0.05, "momentum": 0.5, "maximize": True},
        {"lr": 0.02, "alpha": 0.6, "eps": 0.05, "weight_decay": 0.2},
    ],
)
def test_rmsprop_scalar_hypers_match_torch(kw):
    _compare("rmsprop", torch.optim.RMSprop, kw)


# Kills adagrad.py mutants: line 128 scalar G₀ `torch.full_like(p, init)` -> zeros (also on the
# default fused path, last case); on the foreach path η_t = η/(1 + (t−1)·decay) -> t·decay,
# G₀ = initial_accumulator_value ignored, ε scaled, L2 weight scaled.
# Expected: torch.optim.Adagrad per model.
@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.1, "lr_decay": 0.3, "initial_accumulator_value": 0.5, "eps": 0.05,
         "weight_decay": 0.1},
        {"lr": 0.1, "lr_decay": 0.0, "initial_accumulator_value": 2.0, "eps": 0.01,
         "maximize": True},
        {"lr": 0.1, "initial_accumulator_value": 3.0, "eps": 0.01, "fused": None},
    ],
)  # fmt: skip
def test_adagrad_foreach_scalar_hypers_match_torch(kw):
    _compare("adagrad", torch.optim.Adagrad, {"fused": False, **kw})


# Kills adam.py mutants on the foreach path: amsgrad max dropped, decoupled decay θ(1 − ηλ)
# turned into L2 (or vice versa), bias corrections (1 − βᵗ) altered, ε placement.
# Expected: torch.optim.Adam / AdamW per model.
@pytest.mark.parametrize(
    ("name", "cls", "kw"),
    [
        ("adam", torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.9), "eps": 0.01,
                                    "weight_decay": 0.2, "amsgrad": True}),
        ("adamw", torch.optim.AdamW, {"lr": 0.05, "betas": (0.7, 0.95), "eps": 0.01,
                                      "weight_decay": 0.5, "amsgrad": True}),
        ("adamw", torch.optim.AdamW, {"lr": 0.05, "betas": (0.7, 0.95), "eps": 1e-3,
                                      "weight_decay": 0.5, "maximize": True}),
    ],
)  # fmt: skip
def test_adam_foreach_scalar_hypers_match_torch(name, cls, kw):
    _compare(name, cls, {**kw, "fused": False})


# Kills clip.py `clipped = peak > v` -> `peak >= v`: an element exactly equal to the value is
# not beyond it (docstring: "the models that had an element beyond value"), and torch's clamp
# leaves it unchanged. Model 1's max |g| is exactly 0.5; model 2 has 0.75 > 0.5.
def test_clip_value_element_equal_to_value_is_not_flagged():
    p = torch.zeros(K, 2, requires_grad=True)
    p.grad = torch.tensor([[0.25, -0.1], [-0.5, 0.5], [0.75, -0.2]])
    flags = clip_grad_value_([p], 0.5)
    assert flags.tolist() == [False, False, True]
    ref = torch.tensor([[0.25, -0.1], [-0.5, 0.5], [0.75, -0.2]]).clamp(-0.5, 0.5)
    assert torch.equal(p.grad, ref)
    q = torch.zeros(K, 2, requires_grad=True)
    q.grad = torch.tensor([[0.25, -0.1], [-0.5, 0.5], [0.75, -0.2]])
    flags = clip_grad_value_([q], torch.tensor([0.5, 0.5, 0.75]))
    assert flags.tolist() == [False, False, False]


# Kills clip.py `clipped = coef < 1.0` -> `norms > max_norm`, and norm_type inf mishandled:
# at ‖g‖ == max_norm torch scales by max/(max + 1e-6) < 1, so the gradients *are* scaled down
# (flag True); each model's grads equal torch.nn.utils.clip_grad_norm_ on that model alone.
@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.0])
def test_clip_norm_matches_torch_per_model_and_flags_equal_norm(norm_type):
    g = torch.Generator().manual_seed(3)
    grads = [torch.randn(K, *s, generator=g, dtype=torch.float64) for s in SHAPES]
    norms0 = []
    for m in range(K):
        flat = torch.cat([x[m].reshape(-1) for x in grads])
        norms0.append(torch.linalg.vector_norm(flat, norm_type).item())
    max_norm = norms0[0]  # model 0: norm exactly max_norm; others whatever they are
    ps = [torch.zeros_like(x, requires_grad=True) for x in grads]
    for p, x in zip(ps, grads, strict=True):
        p.grad = x.clone()
    norms, clipped = clip_grad_norm_(ps, max_norm, k=K, norm_type=norm_type)
    for m in range(K):
        refs = [torch.zeros_like(x[m], requires_grad=True) for x in grads]
        for r, x in zip(refs, grads, strict=True):
            r.grad = x[m].clone()
        tn = torch.nn.utils.clip_grad_norm_(refs, max_norm, norm_type=norm_type)
        torch.testing.assert_close(norms[m], tn, rtol=1e-12, atol=0)
        for p, r in zip(ps, refs, strict=True):
            torch.testing.assert_close(p.grad[m], r.grad, rtol=1e-12, atol=0)
        scaled = max_norm / (norms0[m] + 1e-6) < 1.0
        assert bool(clipped[m]) == scaled
    assert bool(clipped[0])


# ---- schedules: each value against torch.optim.lr_scheduler stepped once per step/epoch ----
def _torch_lrs(make, n: int, lr: float = 0.5) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def _ours(name: str, n: int, lr: float = 0.5, **kw) -> list[float]:
    from trainlab.optim import create_schedule

    s = create_schedule(name, torch.tensor([lr, lr], dtype=torch.float64), **kw)
    vals = [s(t) for t in range(n)]
    assert all(float(v[0]) == float(v[1]) for v in vals)
    return [float(v[0]) for v in vals]


# Kills schedules.py multistep `ms <= e` -> `ms < e` (the decay lands on the milestone step),
# step `floor` -> `ceil`, exponential `γ^e` -> `γ^(e+1)`. interval="step" so e = step.
# Expected: torch MultiStepLR / StepLR / ExponentialLR.
@pytest.mark.parametrize(
    ("name", "kw", "make"),
    [
        ("multistep", {"milestones": [3, 7], "gamma": 0.5, "interval": "step"},
         lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [3, 7], gamma=0.5)),
        ("step", {"step_size": 3, "gamma": 0.3, "interval": "step"},
         lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.3)),
        ("exponential", {"gamma": 0.8, "interval": "step"},
         lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)),
    ],
)  # fmt: skip
def test_step_schedules_match_torch_at_boundaries(name, kw, make):
    got = _ours(name, 12, total_steps=20, steps_per_epoch=1, **kw)
    want = _torch_lrs(make, 12)
    assert got == pytest.approx(want, rel=1e-12, abs=0)


# SGDR restarts against torch CosineAnnealingWarmRestarts stepped once per epoch (spe = 1):
# T_0 = 1, T_mult = 10 restarts at epoch 111, where log(1000)/log(10) rounds to 2.999…: the
# restart must give the base lr (schedules.py:416/426 guards; with both removed it is η_min).
@pytest.mark.parametrize(("t0", "tm", "n"), [(2, 2, 30), (1, 3, 30), (2, 1, 30), (1, 10, 115)])
def test_sgdr_restarts_match_torch(t0, tm, n):
    got = _ours("sgdr", n, total_steps=n + 5, steps_per_epoch=1, t_0=t0, t_mult=tm, eta_min=0.01)
    want = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            o, T_0=t0, T_mult=tm, eta_min=0.01
        ),
        n,
    )
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


# Kills warmup mutants: the inner schedule must run on step − W over total − W steps, the ramp
# must be s + (1 − s)·t/W (module doc) and s defaults to 0. Expected: torch SequentialLR of
# LinearLR(start_factor=s, total_iters=W) then CosineAnnealingLR(T_max=total − W), milestone W.
# (torch's LinearLR rejects start_factor 0, so s = 0 is checked by hand: lr at step 0 is 0.)
@pytest.mark.parametrize("s", [0.25, None])
def test_warmup_then_cosine_matches_sequential_lr(s):
    w, total = 4, 14
    kw = {} if s is None else {"warmup_start_factor": s}
    got = _ours("cosine", total, total_steps=total, steps_per_epoch=1, warmup_steps=w, **kw)
    sf = 0.25 if s is not None else 1e-12

    def make(o):
        sch = torch.optim.lr_scheduler
        return sch.SequentialLR(
            o,
            [sch.LinearLR(o, start_factor=sf, total_iters=w),
             sch.CosineAnnealingLR(o, T_max=total - w)],
            milestones=[w],
        )  # fmt: skip

    want = _torch_lrs(make, total)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
    if s is None:
        assert got[0] == 0.0 and got[1] == pytest.approx(0.5 / 4)


# Kills schedules.py:426 `cur = torch.where(ti - cur <= 1e-9 * ti, 0, cur)` removed: with
# T_0 = 0.2 epochs and 5 steps per epoch every cycle is exactly one step long, so every step is
# a restart: T_cur = 0 and lr = base (hand computation; torch's scheduler takes integer T_0 only).
# Without the guard remainder(0.6, 0.2) = 0.1999… puts step 3 at ≈ η_min.
def test_sgdr_non_binary_t0_restarts_at_base_lr():
    got = _ours("sgdr", 10, lr=0.5, total_steps=20, steps_per_epoch=5, t_0=0.2, eta_min=0.01)
    assert got == pytest.approx([0.5] * 10, rel=1e-9)
