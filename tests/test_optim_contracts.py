"""The population optimizers, schedules, clipping and the LR finder: the cases the other suites
leave out (a model stopped at once in the LR finder, Newton with frozen parameters, RMSprop's
per-model momentum of 0, the clipped fraction of value clipping; per-model combinations against
``torch.optim`` on every path, gradients that come and go, state-dict round trips of every
optimizer, ``add_param_group``, non-contiguous parameters, clipping of zero and non-finite
gradients, per-model schedule parameters and one-cycle/warm-up boundaries against
``torch.optim.lr_scheduler``)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as tls

from conftest import small_config, torch_lr_curve
from test_optim import _model_kwargs, _saved
from trainlab.optim import Newton, clip_grad_norm_, create_optimizer, create_schedule

F64 = torch.float64
K = 4
SHAPES = [(6, 5), (6,), (3, 6)]
LR = [0.1, 0.05, 0.2, 0.0]  # the last model is frozen by its lr of 0
TORCH = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
}
FUSED = {"sgd", "adam", "adamw", "adagrad"}


# -- helpers -------------------------------------------------------------------------------------
def _init(dtype=F64) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(K, *s, generator=g, dtype=F64) * 0.5).to(dtype) for s in SHAPES]


def _landscape(steps: int, dtype=F64):
    g = torch.Generator().manual_seed(0)
    curv = [10.0 ** (2 * torch.rand(K, *s, generator=g, dtype=F64) - 1) for s in SHAPES]
    noise = [torch.randn(steps, K, *s, generator=g, dtype=F64) * 0.3 for s in SHAPES]
    return [c.to(dtype) for c in curv], [n.to(dtype) for n in noise]


def _grad(theta, curv, noise):
    """Elementwise, so a model's gradient is the same bits alone or inside the stack."""
    return curv * theta + torch.sin(3.0 * theta) + noise


def _lr_at(step: int, steps: int) -> list[float]:
    f = 0.5 + 0.5 * math.cos(math.pi * step / steps)
    return [b * f for b in LR]


def _as_tensors(hp: dict) -> dict:
    def conv(v):
        if isinstance(v, list):
            return torch.tensor(v, dtype=F64)
        if isinstance(v, tuple):
            return tuple(conv(b) for b in v)
        return v

    return {key: conv(v) for key, v in hp.items()}


def _skip_none(i: int, s: int) -> bool:
    return False


def _run_population(name, hp, *, fused=None, steps=200, skip=_skip_none, dtype=F64):
    params = _init(dtype)
    curv, noise = _landscape(steps, dtype)
    kw = {} if fused is None else {"fused": fused}
    opt = create_optimizer(name, params, **_as_tensors(hp), **kw)
    for s in range(steps):
        for i, (p, a, xi) in enumerate(zip(params, curv, noise, strict=True)):
            p.grad = None if skip(i, s) else _grad(p, a, xi[s])
        for group in opt.param_groups:
            group["lr"] = torch.tensor(_lr_at(s, steps), dtype=F64)  # a (K,) lr every step
        opt.step()
    return params


def _run_torch(name, hp, *, steps=200, skip=_skip_none, dtype=F64):
    init = _init(dtype)
    curv, noise = _landscape(steps, dtype)
    out = [torch.empty_like(p) for p in init]
    for k in range(K):
        params = [p[k].clone() for p in init]
        opt = TORCH[name](params, **_model_kwargs(hp, k))
        for s in range(steps):
            for i, (p, a, xi) in enumerate(zip(params, curv, noise, strict=True)):
                p.grad = None if skip(i, s) else _grad(p, a[k], xi[s, k])
            for group in opt.param_groups:
                group["lr"] = _lr_at(s, steps)[k]
            opt.step()
        for i, p in enumerate(params):
            out[i][k] = p
    return out


def _assert_rel(ours, ref, tol=1e-10):
    for a, b in zip(ours, ref, strict=True):
        rel = ((a - b).abs() / b.abs().clamp_min(1e-3)).max().item()
        assert rel <= tol, f"relative difference {rel:.3e} > {tol}"


# -- LR finder, Newton, RMSprop, value clipping -----------------------------------------------
def _blobs():
    from trainlab.data.datasets import Dataset

    g = torch.Generator().manual_seed(0)
    y = torch.arange(128) % 2
    x = torch.randn(128, 4, generator=g) * 0.5 + (y[:, None] * 2 - 1)
    return Dataset("blobs", x, y, x[:16], y[:16], x[:16], y[:16], (4,), 2)


def test_lr_find_stops_a_model_whose_gradient_is_non_finite_at_once():
    """A model whose loss is finite but whose gradient overflows at step 0 (first layer up
    to 1e21: logits ~1e22, finite; the last layer's gradient ~1e21, whose norm overflows float32)
    is stopped and frozen by the trainer at step 0; the LR finder stops it there too (it reads
    the trainer's ``nan_step`` with the losses), rather than suggest LRs from a frozen model."""
    from trainlab.config import parse_config
    from trainlab.optim.lr_find import lr_find
    from trainlab.train import Trainer

    g = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.rand(8, 4, generator=g) * 1e21)
        net[0].bias.zero_()
        net[2].weight.copy_(torch.randn(2, 8, generator=g))
        net[2].bias.zero_()
    cfg = parse_config(
        {
            "optim": {"name": "sgd", "lr": 1e-3},
            "init": {"scheme": "keep"},
            "train": {"epochs": 1, "batch_size": 32},
            "population": {"seeds": [0]},
        }
    )
    # the premise: the trainer stops this model at step 0 on its gradient, its loss finite
    trainer = Trainer(cfg, device="cpu", model=net, dataset=_blobs())
    before = [p.detach().clone() for p in trainer.params]
    loss = trainer.step_on(torch.arange(32)[None])
    assert torch.isfinite(loss).all() and trainer.nan_step.tolist() == [0]
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.params, strict=True))

    res = lr_find(cfg, start_lr=1e-4, end_lr=1.0, num_steps=20, check_every=5, device="cpu",
                  model=net, dataset=_blobs())  # fmt: skip
    assert math.isfinite(res.losses[0][0])  # the loss is finite: only the gradient is not
    assert res.stop_reasons[0] != "reached end_lr"
    assert len(res.losses[0]) <= 1
    assert res.suggestions[0] == {"steep": None, "min/10": None}


def test_newton_leaves_parameters_without_requires_grad_alone():
    """torch.optim skips parameters that get no gradient (a frozen layer in
    ``model.parameters()``); so does Newton."""
    x = torch.zeros(2, 3, dtype=F64, requires_grad=True)
    frozen = torch.ones(2, 2, dtype=F64)  # requires_grad=False
    opt = Newton([x, frozen])

    def closure():
        return 0.5 * ((x - 1.0) ** 2).sum(1) + (frozen * x[:, :2]).sum(1)  # (K,)

    opt.step(closure)
    # the quadratic's minimum over x, in one full step; the frozen tensor is untouched
    want = torch.tensor([[0.0, 0.0, 1.0]] * 2, dtype=F64)
    torch.testing.assert_close(x.detach(), want, rtol=0, atol=1e-12)
    assert torch.equal(frozen, torch.ones(2, 2, dtype=F64))


def test_rmsprop_per_model_momentum_zero_rounds_like_torch_without_momentum():
    """``RMSprop``: a model with μ = 0 inside a ``(K,)`` momentum steps bit for bit as
    ``torch.optim.RMSprop`` without momentum (``θ + (−η·g)/a``, not ``θ − η·(g/a)``)."""
    g = torch.Generator().manual_seed(0)
    init = torch.randn(2, 64, generator=g)
    grads = torch.randn(30, 2, 64, generator=g)
    p = init.clone()
    opt = create_optimizer("rmsprop", [p], lr=0.01, momentum=torch.tensor([0.0, 0.9], dtype=F64))
    refs = [init[m].clone() for m in range(2)]
    ropts = [torch.optim.RMSprop([refs[m]], lr=0.01, momentum=[0.0, 0.9][m]) for m in range(2)]
    for s in range(30):
        p.grad = grads[s].clone()
        opt.step()
        for m in range(2):
            refs[m].grad = grads[s, m].clone()
            ropts[m].step()
    assert torch.equal(p[1], refs[1])  # the μ = 0.9 model is bit-identical
    assert torch.equal(p[0], refs[0]), (p[0] - refs[0]).abs().max()


def test_rmsprop_per_model_momentum_without_zeros_takes_no_plain_copies(monkeypatch):
    """``RMSprop`` with a ``(K,)`` momentum: the plain step on copies (for models with μ = 0) is
    taken only on steps where some model's μ is 0 (on the CPU it is read; it cost 1.5 of 3.1 ms
    per step, K = 100 models of 7,434 parameters, benchmarks/optim.py); the steps still match
    ``torch.optim.RMSprop`` bit for bit, also after a μ is set to 0 mid-run."""
    from trainlab.optim import rmsprop

    calls = []
    plain = rmsprop._plain_step
    monkeypatch.setattr(rmsprop, "_plain_step", lambda *a: calls.append(1) or plain(*a))
    g = torch.Generator().manual_seed(1)
    init = torch.randn(3, 16, generator=g)
    grads = torch.randn(20, 3, 16, generator=g)
    p = init.clone()
    opt = create_optimizer("rmsprop", [p], lr=0.01, momentum=torch.tensor([0.5, 0.9, 0.7]))
    refs = [init[m].clone() for m in range(3)]
    ropts = [torch.optim.RMSprop([refs[m]], lr=0.01, momentum=[0.5, 0.9, 0.7][m]) for m in range(3)]
    for s in range(20):
        if s == 10:  # model 2 goes on without momentum (its buffer is kept, as torch's)
            opt.param_groups[0]["momentum"] = torch.tensor([0.5, 0.9, 0.0])
            ropts[2].param_groups[0]["momentum"] = 0.0
        p.grad = grads[s].clone()
        opt.step()
        for m in range(3):
            refs[m].grad = grads[s, m].clone()
            ropts[m].step()
    assert len(calls) == 10  # the 10 steps after model 2's μ became 0
    for m in range(3):
        assert torch.equal(p[m], refs[m]), (m, (p[m] - refs[m]).abs().max())


def test_clip_value_records_the_clipped_fraction(tmp_path):
    """README: "``train.clip_norm`` / ``train.clip_value`` clip per model and ``metrics.jsonl``
    records the clipped fraction", also with ``clip_value`` alone."""
    from trainlab.train import train

    cfg = small_config(train={"epochs": 1, "clip_value": 1e-6}, population={"seeds": [0, 1]})
    train(cfg, out=tmp_path / "r", progress=False, device="cpu")
    rows = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert all(r.get("clip_frac") == 1.0 for r in rows), rows[0]  # 1e-6 clips every step


# -- against torch.optim, per-model combinations ----------------------------------------------
COMBOS = [
    ("sgd", {"momentum": [0.9, 0.5, 0.8, 0.95], "nesterov": True, "maximize": True,
             "weight_decay": [0.1, 0.0, 0.01, 0.2]}),
    ("sgd", {"momentum": [0.9, 0.5, 0.0, 0.95], "dampening": [0.1, 0.2, 0.3, 0.4],
             "maximize": True}),
    ("adam", {"betas": ([0.9, 0.8, 0.0, 0.95], [0.999, 0.99, 0.9, 0.9999]), "amsgrad": True,
              "maximize": True, "eps": [1e-8, 1e-6, 1e-3, 1e-8]}),
    ("adamw", {"betas": ([0.9, 0.8, 0.0, 0.95], 0.99), "amsgrad": True, "maximize": True,
               "weight_decay": [0.0, 0.1, 0.5, 0.01]}),
    ("adagrad", {"lr_decay": [0.0, 1e-2, 0.1, 0.0], "maximize": True,
                 "initial_accumulator_value": [0.0, 0.1, 1.0, 0.5],
                 "weight_decay": [0.1, 0.0, 0.01, 0.2]}),
    ("rmsprop", {"alpha": [0.99, 0.9, 0.5, 0.999], "momentum": [0.0, 0.9, 0.5, 0.99],
                 "centered": True, "maximize": True, "weight_decay": [0.0, 1e-2, 1e-3, 0.1],
                 "eps": [1e-8, 1e-6, 1e-3, 1e-8]}),
]  # fmt: skip


@pytest.mark.parametrize("name,hp", COMBOS, ids=[c[0] for c in COMBOS])
def test_per_model_combinations_with_maximize_match_torch_on_every_path(name, hp):
    """Per-model betas with amsgrad and maximize, Nesterov with maximize and per-model decay,
    per-model dampening with a μ = 0 model, centered RMSprop with every value per model:
    200 float64 steps with a (K,) lr changing every step, within 1e-10 of torch per model."""
    ref = _run_torch(name, hp)
    for fused in (False, True, None) if name in FUSED else (None,):
        _assert_rel(_run_population(name, hp, fused=fused), ref)


INTERMITTENT = [
    ("sgd", {"momentum": [0.9, 0.5, 0.0, 0.95], "dampening": [0.1, 0.2, 0.3, 0.4]}),
    ("adam", {"betas": ([0.9, 0.8, 0.0, 0.95], [0.999, 0.99, 0.9, 0.9999]), "amsgrad": True}),
    ("adagrad", {"lr_decay": [0.0, 1e-2, 0.1, 0.0]}),
    ("rmsprop", {"momentum": [0.0, 0.9, 0.5, 0.99], "centered": True}),
]


@pytest.mark.parametrize("name,hp", INTERMITTENT, ids=[c[0] for c in INTERMITTENT])
def test_gradients_that_come_and_go_match_torch(name, hp):
    """A parameter without a gradient every third step and another one late (torch skips
    them, keeping their step counts and buffers): equal to torch per model on every path."""

    def skip(i, s):
        return (i == 2 and s % 3 == 1) or (i == 1 and s < 7)

    ref = _run_torch(name, hp, steps=40, skip=skip)
    for fused in (False, True) if name in FUSED else (None,):
        _assert_rel(_run_population(name, hp, fused=fused, steps=40, skip=skip), ref)


ROUND_TRIP = [
    ("sgd", {"momentum": [0.9, 0.5, 0.0, 0.95], "nesterov": False, "dampening": 0.1}),
    ("adamw", {"weight_decay": [0.0, 0.1, 0.5, 0.01], "amsgrad": True}),
    ("adagrad", {"lr_decay": [0.0, 1e-2, 0.1, 0.0],
                 "initial_accumulator_value": [0.0, 0.1, 1.0, 0.5]}),
    ("rmsprop", {"alpha": [0.99, 0.9, 0.5, 0.999], "momentum": [0.0, 0.9, 0.5, 0.99],
                 "centered": True}),
]  # fmt: skip


@pytest.mark.parametrize("name,hp", ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_state_dict_round_trip_of_every_optimizer_continues_bitwise(name, hp):
    """Save mid-training through torch.save, load into a fresh optimizer, continue: the same
    bits as the uninterrupted run (only Adam had this test)."""
    curv, noise = _landscape(30)

    def run(split: int | None):
        ps = _init()
        opt = create_optimizer(name, ps, **_as_tensors(hp))
        for s in range(30):
            if s == split:
                sd = _saved(opt.state_dict())
                ps = [p.detach().clone() for p in ps]
                opt = create_optimizer(name, ps, **_as_tensors(hp))
                opt.load_state_dict(sd)
            for p, a, xi in zip(ps, curv, noise, strict=True):
                p.grad = _grad(p, a, xi[s])
            for group in opt.param_groups:
                group["lr"] = torch.tensor(_lr_at(s, 30), dtype=F64)
            opt.step()
        return ps

    for a, b in zip(run(None), run(13), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_add_param_group_with_per_model_values_matches_torch(name):
    """A group added after 5 steps, with its own shared lr and per-model values, steps like
    torch's ``add_param_group`` per model."""
    per = torch.tensor([0.9, 0.5, 0.0], dtype=F64)
    extra = {
        "sgd": {"momentum": per, "weight_decay": 0.1},
        "adam": {"betas": (per, 0.9), "amsgrad": True},
        "adamw": {"weight_decay": per},
        "adagrad": {"eps": per * 1e-3 + 1e-10, "lr_decay": 0.1, "weight_decay": per},
        "rmsprop": {"alpha": per, "momentum": 0.3},
    }[name]
    g = torch.Generator().manual_seed(0)
    a0, b0 = torch.randn(3, 4, generator=g, dtype=F64), torch.randn(3, 2, 3, generator=g, dtype=F64)
    ga, gb = torch.randn(15, 3, 4, generator=g, dtype=F64), torch.randn(15, 3, 2, 3, generator=g,
                                                                        dtype=F64)  # fmt: skip
    a, b = a0.clone(), b0.clone()
    opt = create_optimizer(name, [a], lr=torch.tensor([0.1, 0.2, 0.05], dtype=F64))
    for s in range(15):
        if s == 5:
            opt.add_param_group({"params": [b], "lr": 0.03, **extra})
        a.grad = ga[s].clone()
        b.grad = gb[s].clone() if s >= 5 else None
        opt.step()
    for k in range(3):
        ra, rb = a0[k].clone(), b0[k].clone()
        ropt = TORCH[name]([ra], lr=[0.1, 0.2, 0.05][k])
        for s in range(15):
            if s == 5:
                hk = {
                    key: (float(v[k]) if isinstance(v, torch.Tensor) else
                          tuple(float(x[k]) if isinstance(x, torch.Tensor) else x for x in v)
                          if isinstance(v, tuple) else v)
                    for key, v in extra.items()
                }  # fmt: skip
                ropt.add_param_group({"params": [rb], "lr": 0.03, **hk})
            ra.grad = ga[s, k].clone()
            rb.grad = gb[s, k].clone() if s >= 5 else None
            ropt.step()
        torch.testing.assert_close(a[k], ra, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(b[k], rb, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_non_contiguous_parameters_step_like_contiguous_ones(name):
    """A transposed-layout (K, 5, 3) parameter: auto takes the _foreach path, same values."""
    hp = {"lr": torch.tensor([0.1, 0.05, 0.2], dtype=F64)}
    if name != "rmsprop":
        hp["weight_decay"] = torch.tensor([0.1, 0.0, 0.01], dtype=F64)
    g = torch.Generator().manual_seed(0)
    init = torch.randn(3, 5, 3, generator=g, dtype=F64)
    grads = torch.randn(10, 3, 5, 3, generator=g, dtype=F64)
    dense = init.clone()
    strided = init.transpose(1, 2).contiguous().transpose(1, 2)
    assert not strided.is_contiguous()
    od, os_ = create_optimizer(name, [dense], **hp), create_optimizer(name, [strided], **hp)
    for s in range(10):
        dense.grad = grads[s].clone()
        strided.grad = grads[s].transpose(1, 2).contiguous().transpose(1, 2)
        od.step()
        os_.step()
    torch.testing.assert_close(strided, dense, rtol=1e-13, atol=0)


@pytest.mark.parametrize("dtype", [F64, torch.float32])
@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_norm_of_zero_and_non_finite_gradients_matches_torch_per_model(dtype, norm_type):
    """Model 1's gradient is all zeros, model 2 has an inf, model 3 a NaN, model 4 a −inf;
    a per-model max_norm: norms, clipped gradients (NaN where torch's are) equal torch's."""
    k = 5
    g = torch.Generator().manual_seed(0)
    ps = [torch.zeros(k, *s, dtype=dtype) for s in [(4, 3), (4,), (2,)]]
    for p in ps:
        p.grad = (torch.randn(p.shape, generator=g, dtype=F64) * 3).to(dtype)
        p.grad[1] = 0.0
    ps[0].grad[2, 0, 0] = math.inf
    ps[1].grad[3, 1] = math.nan
    ps[2].grad[4] = -math.inf
    max_norm = torch.tensor([1.0, 0.5, 2.0, 1.0, 0.3], dtype=F64)
    ref = [[p.grad[m].clone() for p in ps] for m in range(k)]
    norms, clipped = clip_grad_norm_(ps, max_norm, k=k, norm_type=norm_type)
    for m in range(k):
        ts = [torch.zeros_like(r, requires_grad=True) for r in ref[m]]
        for t, r in zip(ts, ref[m], strict=True):
            t.grad = r.clone()
        tn = torch.nn.utils.clip_grad_norm_(ts, float(max_norm[m]), norm_type=norm_type)
        torch.testing.assert_close(norms[m], tn, rtol=0, atol=0, equal_nan=True)
        for p, t in zip(ps, ts, strict=True):
            torch.testing.assert_close(p.grad[m], t.grad, rtol=0, atol=0, equal_nan=True)
    assert clipped.tolist() == [True, False, True, False, True]  # zeros: untouched; NaN: not
    assert torch.equal(ps[0].grad[1], torch.zeros(4, 3, dtype=dtype))


def test_per_model_schedule_parameters_equal_separate_schedules():
    """cyclic, one_cycle, cosine, sgdr (fractional T_mult) and a per-model warm-up start
    factor with every parameter per model: each model's curve is its own schedule's, bitwise."""
    base = torch.tensor([0.1, 0.3, 0.05], dtype=F64)
    cases = [
        ("cyclic", {"max_lr": [1.0, 0.5, 2.0], "step_size_up": [2, 3, 4],
                    "step_size_down": [5, 1, 2], "mode": "triangular2"}),
        ("one_cycle", {"pct_start": [0.1, 0.3, 0.5], "div_factor": [10, 25, 5],
                       "final_div_factor": [10, 1e4, 100], "anneal_strategy": "linear"}),
        ("cosine", {"eta_min": [0, 0.01, 0.001], "t_max": [10, 20, 40]}),
        ("sgdr", {"t_0": [1, 1.5, 3], "t_mult": [1.5, 1, 2.5], "eta_min": [0, 0.01, 0.001]}),
        ("linear", {"end_factor": [0, 0.5, 2], "warmup_steps": 4,
                    "warmup_start_factor": [0, 0.5, 1.0]}),
    ]  # fmt: skip
    for name, kw in cases:
        tk = {a: torch.tensor(v, dtype=F64) if isinstance(v, list) else v for a, v in kw.items()}
        pop = create_schedule(name, base, total_steps=40, steps_per_epoch=2, **tk).curve()
        assert torch.isfinite(pop).all()
        for m in range(3):
            one = create_schedule(name, base[m : m + 1], total_steps=40, steps_per_epoch=2,
                                  **{a: v[m] if isinstance(v, list) else v
                                     for a, v in kw.items()})  # fmt: skip
            assert torch.equal(pop[:, m], one.curve()[:, 0]), (name, m)


def _ours(name: str, total: int, **kw) -> torch.Tensor:
    base = torch.tensor([0.1], dtype=F64)
    return create_schedule(name, base, total_steps=total, steps_per_epoch=1, **kw).curve()[:, 0]


@pytest.mark.parametrize("total", [1, 2, 3, 5, 37])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_at_short_lengths_matches_torch_to_the_last_step(total, strategy):
    """Runs of 1-5 steps (the rise shorter than a step) up to the last step's final lr."""
    for pct in (0.3, 0.9):
        ref = torch_lr_curve(lambda o, pct=pct: tls.OneCycleLR(
            o, 0.1, total_steps=total, pct_start=pct, anneal_strategy=strategy,
            cycle_momentum=False), 0.1, total)  # fmt: skip
        ours = _ours("one_cycle", total, pct_start=pct, anneal_strategy=strategy)
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=0)
        assert float(ours[-1]) == pytest.approx(0.1 / 25 / 1e4, rel=1e-12) or total == 1


@pytest.mark.parametrize("warmup", [1, 2, 5])
def test_warmup_in_front_of_each_schedule_matches_sequential_lr(warmup):
    """W steps of LinearLR(start factor), then the inner schedule over the remaining steps, as
    torch's SequentialLR; W = 1 and a start factor of 0 included."""
    total = 30
    inners = [
        ("cosine", {}, lambda o: tls.CosineAnnealingLR(o, total - warmup)),
        ("linear", {"end_factor": 0.2}, lambda o: tls.LinearLR(o, 1.0, 0.2, total - warmup)),
        ("exponential", {"gamma": 0.9, "interval": "step"}, lambda o: tls.ExponentialLR(o, 0.9)),
        ("step", {"step_size": 4, "gamma": 0.5, "interval": "step"},
         lambda o: tls.StepLR(o, 4, 0.5)),
    ]  # fmt: skip
    for name, kw, inner in inners:
        for start in (0.0, 0.25):
            ref = torch_lr_curve(
                lambda o, inner=inner, start=start: tls.SequentialLR(
                    o, [tls.LinearLR(o, start or 1e-300, 1.0, warmup), inner(o)], [warmup]
                ),
                0.1,
                total,
            )
            ours = _ours(name, total, warmup_steps=warmup, warmup_start_factor=start, **kw)
            torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-15)


def test_lr_find_sweeps_the_lr_in_the_optimizers_hyperparameter_dtype(monkeypatch):
    """The range test's lr override is float64 (hyper_dtype on the CPU), as the trainer's own
    learning rates are, not float32."""
    from trainlab.optim.lr_find import lr_find
    from trainlab.train import Trainer

    seen = []
    step_on = Trainer.step_on

    def spy(self, idx):
        seen.append(self.lr_override.dtype)
        return step_on(self, idx)

    monkeypatch.setattr(Trainer, "step_on", spy)
    lr_find(small_config(), num_steps=5, device="cpu")
    assert seen and set(seen) == {torch.float64}
