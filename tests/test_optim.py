"""Population optimizers equal K separate ``torch.optim`` runs, step for step."""

from __future__ import annotations

import math

import pytest
import torch

from trainlab.errors import ConfigError, UserError
from trainlab.optim import create_optimizer, list_optimizers

K, D, H, C = 4, 5, 6, 3
STEPS = 200
SHAPES = [(H, D), (H,), (C, H)]  # one model's parameters (a small MLP's weights and bias)


def _init() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [torch.randn(K, *s, generator=g, dtype=torch.float64) * 0.5 for s in SHAPES]


def _landscape() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per-coordinate curvatures (ill-conditioned, 0.1 … 10) and a noise term per step."""
    g = torch.Generator().manual_seed(0)
    curv = [10.0 ** (2 * torch.rand(K, *s, generator=g, dtype=torch.float64) - 1) for s in SHAPES]
    noise = [torch.randn(STEPS, K, *s, generator=g, dtype=torch.float64) * 0.3 for s in SHAPES]
    return curv, noise


def _grad(theta: torch.Tensor, curv: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Gradient of a non-convex, noisy loss ``Σ a θ²/2 − cos(3θ)/3 + ξ θ`` (elementwise, so a
    model's gradient is the same bits alone or inside the stack)."""
    return curv * theta + torch.sin(3.0 * theta) + noise


def _lr_at(base: list[float], step: int) -> list[float]:
    """A per-step lr, as a schedule sets it (cosine factor), for both runs."""
    f = 0.5 + 0.5 * math.cos(math.pi * step / STEPS)
    return [b * f for b in base]


#: optimizers with a fused CPU path (torch's ``_fused_*`` kernels); others take ``_foreach`` only
FUSED = {"sgd", "adam", "adamw", "adagrad"}


def _run_population(name, hp, lr_base, fused=None):
    params = [p.clone() for p in _init()]
    curv, noise = _landscape()
    opt = create_optimizer(name, params, **hp, **({} if fused is None else {"fused": fused}))
    for s in range(STEPS):
        for p, a, xi in zip(params, curv, noise, strict=True):
            p.grad = _grad(p, a, xi[s])
        for g in opt.param_groups:
            g["lr"] = torch.tensor(_lr_at(lr_base, s), dtype=torch.float64)  # (K,) per step
        opt.step()
    return params


def _run_torch(torch_cls, hps: list[dict], lr_base):
    init = _init()
    curv, noise = _landscape()
    out = [torch.empty_like(p) for p in init]
    for k in range(K):
        params = [p[k].clone() for p in init]
        opt = torch_cls(params, **hps[k])
        for s in range(STEPS):
            for p, a, xi in zip(params, curv, noise, strict=True):
                p.grad = _grad(p, a[k], xi[s, k])
            for g in opt.param_groups:
                g["lr"] = _lr_at(lr_base, s)[k]
            opt.step()
        for i, p in enumerate(params):
            out[i][k] = p
    return out


def _model_kwargs(hp: dict, k: int) -> dict:
    """Model ``k``'s torch.optim kwargs from a dict of (K,) lists / shared values."""
    out = {}
    for key, v in hp.items():
        if key == "betas":
            out[key] = tuple(b[k] if isinstance(b, list) else b for b in v)
        else:
            out[key] = v[k] if isinstance(v, list) else v
    return out


def _per_model(hp: dict) -> list[dict]:
    """Split a dict of (K,) lists / shared values into K torch.optim kwarg dicts."""
    return [_model_kwargs(hp, k) for k in range(K)]


def _as_tensors(hp: dict) -> dict:
    def conv(v):
        if isinstance(v, list):
            return torch.tensor(v, dtype=torch.float64)
        if isinstance(v, tuple):
            return tuple(conv(b) for b in v)
        return v

    return {key: conv(v) for key, v in hp.items()}


LR = [0.1, 0.05, 0.2, 0.0]  # the last model is frozen (lr 0): it must not move at all
CASES = [
    (
        "sgd",
        torch.optim.SGD,
        {
            "momentum": [0.0, 0.9, 0.5, 0.99],
            "dampening": [0.5, 0.0, 0.1, 0.0],
            "weight_decay": [0.0, 1e-2, 1e-3, 0.1],
        },
    ),
    (
        "sgd",
        torch.optim.SGD,
        {
            "momentum": [0.9, 0.5, 0.8, 0.95],
            "nesterov": True,
            "weight_decay": [1e-3, 0.0, 1e-2, 0.1],
        },
    ),
    ("sgd", torch.optim.SGD, {"momentum": 0.9, "weight_decay": 1e-3}),  # shared values
    (
        "adam",
        torch.optim.Adam,
        {
            "betas": ([0.9, 0.8, 0.0, 0.95], [0.999, 0.99, 0.9, 0.9999]),
            "eps": [1e-8, 1e-6, 1e-3, 1e-8],
            "weight_decay": [0.0, 1e-2, 1e-3, 0.1],
        },
    ),
    (
        "adam",
        torch.optim.Adam,
        {
            "betas": ([0.9, 0.8, 0.5, 0.95], 0.99),
            "amsgrad": True,
            "weight_decay": [0.0, 1e-2, 0.0, 0.1],
        },
    ),
    ("adam", torch.optim.Adam, {}),  # torch defaults, shared
    (
        "adamw",
        torch.optim.AdamW,
        {
            "betas": ([0.9, 0.8, 0.0, 0.95], [0.999, 0.99, 0.9, 0.9999]),
            "eps": [1e-8, 1e-6, 1e-3, 1e-8],
            "weight_decay": [0.0, 1e-2, 0.5, 0.1],
        },
    ),
    ("adamw", torch.optim.AdamW, {"amsgrad": True, "weight_decay": [0.3, 1e-2, 0.0, 0.1]}),
    (
        "adagrad",
        torch.optim.Adagrad,
        {
            "lr_decay": [0.0, 1e-2, 0.1, 0.0],
            "weight_decay": [0.0, 1e-2, 1e-3, 0.1],
            "initial_accumulator_value": [0.0, 0.1, 1.0, 0.5],
            "eps": [1e-10, 1e-6, 1e-3, 1e-10],
        },
    ),
    ("adagrad", torch.optim.Adagrad, {}),
    (
        "rmsprop",
        torch.optim.RMSprop,
        {
            "alpha": [0.99, 0.9, 0.5, 0.999],
            "eps": [1e-8, 1e-6, 1e-3, 1e-8],
            "weight_decay": [0.0, 1e-2, 1e-3, 0.1],
            "momentum": [0.0, 0.9, 0.5, 0.99],
        },
    ),
    ("rmsprop", torch.optim.RMSprop, {"alpha": [0.99, 0.9, 0.5, 0.999], "centered": True}),
    ("rmsprop", torch.optim.RMSprop, {"momentum": 0.9, "centered": True}),
]


def _assert_rel(ours: list[torch.Tensor], ref: list[torch.Tensor], tol: float = 1e-10) -> None:
    for a, b in zip(ours, ref, strict=True):
        rel = ((a - b).abs() / b.abs().clamp_min(1e-3)).max().item()
        assert rel <= tol, f"relative difference {rel:.3e} > {tol}"


@pytest.mark.parametrize(
    "name,torch_cls,hp,fused",
    [(*case, f) for case in CASES for f in ((False, True, None) if case[0] in FUSED else (None,))],
    ids=lambda v: str(v)[:40],
)
def test_matches_torch_per_model(name, torch_cls, hp, fused):
    """Every path: ``_foreach`` broadcasting, fused CPU kernels called per run of models, and
    (auto, these small models) one lr-scaled fused call where only the lr differs by model."""
    ours = _run_population(name, _as_tensors(hp), LR, fused)
    ref = _run_torch(torch_cls, _per_model(hp), LR)
    _assert_rel(ours, ref)
    # the lr-0 model did not move, and the others did
    init = _init()
    for a, b in zip(ours, init, strict=True):
        assert torch.equal(a[3], b[3])
        assert not torch.allclose(a[0], b[0])


def test_detects_a_wrong_update():
    """The comparison can fail: a different hyperparameter in one model is caught."""
    hp = {"momentum": [0.9, 0.5, 0.8, 0.95]}
    ours = _run_population("sgd", _as_tensors(hp), LR)
    wrong = dict(hp, momentum=[0.9, 0.5, 0.79, 0.95])
    ref = _run_torch(torch.optim.SGD, _per_model(wrong), LR)
    with pytest.raises(AssertionError):
        _assert_rel(ours, ref)


def test_shared_float_lr_fast_path_equals_tensor_lr():
    init = _init()
    grads = [torch.randn_like(p) for p in init]
    for name in ("sgd", "adam", "adamw", "adagrad", "rmsprop"):
        a = [p.clone() for p in init]
        b = [p.clone() for p in init]
        oa = create_optimizer(name, a, lr=0.01, weight_decay=0.1)
        ob = create_optimizer(
            name, b, lr=torch.full((K,), 0.01, dtype=torch.float64), weight_decay=0.1
        )
        for _ in range(3):
            for p, g in zip(a, grads, strict=True):
                p.grad = g.clone()
            for p, g in zip(b, grads, strict=True):
                p.grad = g.clone()
            oa.step()
            ob.step()
        _assert_rel(a, b, 1e-13)


@pytest.mark.parametrize(
    "name,hp,msg",
    [
        ("sgd", {"lr": -0.1}, "lr must lie in"),
        ("sgd", {"lr": torch.tensor([0.1, -0.1, 0.1, 0.1])}, "lr must lie in"),
        ("sgd", {"lr": torch.tensor([0.1, 0.1])}, "K=4"),
        ("sgd", {"momentum": 0.0, "nesterov": True}, "nesterov needs momentum"),
        ("adam", {"betas": (1.0, 0.999)}, "beta1 must lie in [0.0, 1.0)"),
        ("adam", {"betas": (0.9, -0.1)}, "beta2 must lie in"),
        ("adam", {"betas": 0.9}, "betas must be a pair"),
        ("adam", {"eps": 0.0}, "eps must lie in (0.0"),
        ("adamw", {"weight_decay": float("nan")}, "must be finite"),
        ("adam", {"momentum": 0.9}, "has no hyperparameter 'momentum'"),
    ],
)
def test_bad_hyperparameters_are_clear_errors(name, hp, msg):
    params = _init()
    with pytest.raises(ConfigError) as err:
        create_optimizer(name, params, **hp)
    assert msg in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_optimizer_suggests():
    with pytest.raises(UserError, match="did you mean 'adam'"):
        create_optimizer("adma", _init())
    names = [n for n, _ in list_optimizers()]
    assert {"sgd", "adam", "adamw", "adagrad", "rmsprop"} <= set(names)


def test_params_must_share_k():
    with pytest.raises(ConfigError, match="disagree on K"):
        create_optimizer("sgd", [torch.zeros(3, 2), torch.zeros(4, 2)])


def test_state_dict_roundtrip_continues_identically():
    init = _init()
    g = torch.Generator().manual_seed(3)
    grads = [[torch.randn(p.shape, generator=g, dtype=p.dtype) for p in init] for _ in range(6)]
    hp = {
        "lr": torch.tensor([0.1, 0.01, 0.02, 0.0], dtype=torch.float64),
        "betas": (torch.tensor([0.9, 0.8, 0.7, 0.6], dtype=torch.float64), 0.99),
    }

    def run(split: bool):
        ps = [p.clone() for p in init]
        opt = create_optimizer("adam", ps, **hp)
        for i, gs in enumerate(grads):
            if split and i == 3:
                sd = opt.state_dict()
                ps = [p.clone() for p in ps]
                opt = create_optimizer("adam", ps, **hp)
                opt.load_state_dict(sd)
            for p, gg in zip(ps, gs, strict=True):
                p.grad = gg.clone()
            opt.step()
        return ps

    a, b = run(False), run(True)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)


def test_step_schedule_and_clip_read_nothing_from_the_device(monkeypatch):
    """The hot loop's pieces never convert a tensor to a Python value (no host sync)."""
    from trainlab.optim import base, clip_grad_norm_, clip_grad_value_, create_schedule

    params = _init()
    per_model = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    # fused=False: the path every device takes. (The fused CPU path reads CPU-resident values,
    # a memory read and not a sync; it refuses non-CPU tensors.)
    opts = [
        create_optimizer(
            "sgd", params, momentum=per_model, nesterov=True, weight_decay=per_model, fused=False
        ),
        create_optimizer("adamw", params, betas=(per_model, 0.99), amsgrad=True, fused=False),
        create_optimizer("adam", params, eps=per_model, weight_decay=0.1, fused=False),
        create_optimizer("adagrad", params, lr_decay=per_model, fused=False),
        create_optimizer("rmsprop", params, momentum=per_model, centered=True),
    ]
    scheds = [
        create_schedule(n, per_model, total_steps=50, steps_per_epoch=5, **kw)
        for n, kw in [("cosine", {"warmup_steps": 3}), ("sgdr", {"t_0": 1, "t_mult": 2}),
                      ("multistep", {"milestones": [2, 4]}), ("one_cycle", {}),
                      ("cyclic", {"max_lr": 1.0, "step_size_up": 4})]
    ]  # fmt: skip

    def forbidden(*a, **k):
        raise AssertionError("host read of a tensor in the hot loop")

    for p in params:
        p.grad = torch.ones_like(p)
    clip_grad_norm_(params, per_model, k=K)  # a per-model max_norm is checked once, when new
    # the CPU's exact paths read CPU memory (C pow of per-model betas, RMSprop's μ = 0 check):
    # here, the path a device takes
    monkeypatch.setattr(base, "readable_on_host", lambda value: False)
    for name in ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, name, forbidden)
    for step in range(3):
        for p in params:
            p.grad = torch.ones_like(p)
        clip_grad_norm_(params, per_model, k=K)
        clip_grad_value_(params, 0.5)
        for opt in opts:
            for g in opt.param_groups:
                g["lr"] = scheds[step % len(scheds)](step)
            opt.step()
    monkeypatch.undo()
    assert all(torch.isfinite(p).all() for p in params)


def _cs231n_run(rule: str, lrs: list[float], mu: float = 0.9):
    """The notes' (CS231n) update rules, written as in the notes, on the test landscape."""
    x = _init()[0][0].clone()  # one model's first parameter
    curv, noise = _landscape()
    v = torch.zeros_like(x)
    m, cache = torch.zeros_like(x), torch.zeros_like(x)
    for t, lr in enumerate(lrs, start=1):
        dx = _grad(x, curv[0][0], noise[0][t - 1, 0])
        if rule == "momentum":
            v = mu * v - lr * dx
            x = x + v
        elif rule == "nesterov":
            v_prev = v
            v = mu * v - lr * dx
            x = x - mu * v_prev + (1 + mu) * v
        elif rule == "adam":
            b1, b2, eps = 0.9, 0.999, 1e-8
            m = b1 * m + (1 - b1) * dx
            cache = b2 * cache + (1 - b2) * dx**2
            mt, vt = m / (1 - b1**t), cache / (1 - b2**t)
            x = x - lr * mt / (vt.sqrt() + eps)
    return x


def _ours_run(name: str, lrs: list[float], **hp):
    x = _init()[0][:1].clone()  # (1, H, D): a population of one
    curv, noise = _landscape()
    opt = create_optimizer(name, [x], lr=lrs[0], **hp)
    for t, lr in enumerate(lrs):
        x.grad = _grad(x, curv[0][:1], noise[0][t, :1])
        opt.param_groups[0]["lr"] = lr
        opt.step()
    return x[0]


@pytest.mark.parametrize(
    "rule,name,hp",
    [
        ("momentum", "sgd", {"momentum": 0.9}),
        ("nesterov", "sgd", {"momentum": 0.9, "nesterov": True}),
        ("adam", "adam", {}),
    ],
)
def test_cs231n_forms_equal_torch_at_constant_lr_and_differ_under_a_schedule(rule, name, hp):
    """Documented in sgd.py/adam.py: the notes' formulas are torch's for a constant lr; the
    momentum forms (lr inside the velocity) differ once the lr changes."""
    const = [0.01] * 50
    torch.testing.assert_close(_cs231n_run(rule, const), _ours_run(name, const, **hp),
                               rtol=1e-9, atol=1e-12)  # fmt: skip
    decay = [0.01 * 0.9**t for t in range(50)]
    same = torch.allclose(_cs231n_run(rule, decay), _ours_run(name, decay, **hp), rtol=1e-9)
    assert same == (rule == "adam")  # Adam has no velocity: a changing lr acts alike


def test_fused_auto_picks_the_cpu_kernel_by_runs_and_size(monkeypatch):
    """auto: one fused call when all models agree; one lr-scaled call when only the lr
    differs, up to LR_SCALED_MAX_NUMEL per model; else a call per run only for big models."""
    from trainlab.optim import base

    calls = []
    real = torch._fused_adam_
    monkeypatch.setattr(
        torch, "_fused_adam_", lambda p, *a, **kw: calls.append(len(p)) or real(p, *a, **kw)
    )

    def step(k, numel, lr):
        ps = [torch.zeros(k, numel, requires_grad=True)]
        ps[0].grad = torch.ones(k, numel)
        create_optimizer("adam", ps, lr=lr).step()
        return ps[0]

    calls.clear()
    step(4, 10, torch.full((4,), 0.1))  # equal values: one call on the whole stack
    assert calls == [1]
    calls.clear()
    small = step(4, 10, torch.tensor([0.1, 0.1, 0.2, 0.0]))  # tiny models, only lr differs
    assert calls == [1]  # one lr-scaled call
    calls.clear()
    mid = step(4, base.FUSED_MIN_NUMEL, torch.tensor([0.1, 0.1, 0.2, 0.0]))
    assert calls == [1]  # one lr-scaled call (a call per run costs more at this size)
    calls.clear()
    big = step(4, base.LR_SCALED_MAX_NUMEL, torch.tensor([0.1, 0.1, 0.2, 0.0]))
    assert calls == [1, 1, 1]  # runs [0:2], [2:3], [3:4]
    for out in (small[:, 0], mid[:, 0], big[:, 0]):
        torch.testing.assert_close(out, torch.tensor([-0.1, -0.1, -0.2, 0.0]))
    calls.clear()
    ps = [torch.zeros(4, base.FUSED_MIN_NUMEL, requires_grad=True)]
    ps[0].grad = torch.ones(4, base.FUSED_MIN_NUMEL)
    create_optimizer(
        "adam", ps, lr=torch.full((4,), 0.1), eps=torch.tensor([1e-8, 1e-6] * 2)
    ).step()
    assert calls == [1, 1, 1, 1]  # mid-size, another per-model value: a call per run
    calls.clear()
    ps = [torch.zeros(4, 10, requires_grad=True)]
    ps[0].grad = torch.ones(4, 10)
    eps = torch.tensor([1e-8, 1e-6] * 2)
    create_optimizer("adam", ps, lr=torch.full((4,), 0.1), eps=eps).step()
    assert calls == []  # tiny models with another per-model value: one broadcast step


@pytest.mark.parametrize("name", sorted(FUSED))
def test_lr_scaled_step_runs_one_kernel_call_with_the_largest_lr(monkeypatch, name):
    """Small models whose only per-model values are the lr and weight decay: one fused call
    with the largest lr and no decay on copies of the parameters (the decay applied outside the
    kernel: L2 on the gradient, with ``maximize`` folded in; AdamW's on the weights), then each
    model moves by its own lr; equal to torch per model, and the lr-0 model keeps its bits."""
    kernel = {"sgd": "_fused_sgd_", "adam": "_fused_adam_", "adamw": "_fused_adamw_",
              "adagrad": "_fused_adagrad_"}[name]  # fmt: skip
    real, seen = getattr(torch, kernel), []

    def spy(params, *args, **kw):
        seen.append((len(params), kw["lr"], kw.get("weight_decay")))
        return real(params, *args, **kw)

    monkeypatch.setattr(torch, kernel, spy)
    wd = [0.3, 0.1, 0.0, 0.2]
    hp = {
        "sgd": {"momentum": 0.9, "nesterov": True, "weight_decay": wd},
        "adam": {"weight_decay": wd, "maximize": True},
        "adamw": {"weight_decay": wd, "amsgrad": True},
        "adagrad": {"weight_decay": wd, "lr_decay": 0.01},
    }[name]
    init = _init()
    ours = _run_population(name, _as_tensors(hp), LR)
    # the kernel's lr: each step's largest per-model lr (Adagrad's decays it inside the kernel)
    want = [(max(_lr_at(LR, s)), 0.0) for s in range(STEPS)]
    assert len(seen) == STEPS and [s[1:] for s in seen] == want
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "adagrad": torch.optim.Adagrad}[name]  # fmt: skip
    _assert_rel(ours, _run_torch(cls, _per_model(hp), LR))
    for a, b in zip(ours, init, strict=True):
        assert torch.equal(a[3], b[3])


@pytest.mark.parametrize("name", ["sgd", "adam", "adagrad"])
def test_lr_scaled_step_applies_a_shared_l2_decay_outside_the_kernel(monkeypatch, name):
    """The lr-scaled kernel steps a zero copy of the parameters (``Δ = −η_max u`` at full
    precision), so it cannot see ``θ``: a shared L2 λ is applied outside it (``g + λθ``), and
    the result still equals torch per model."""
    kernel = f"_fused_{name}_"
    real, seen = getattr(torch, kernel), []
    monkeypatch.setattr(
        torch, kernel, lambda p, *a, **kw: seen.append(kw["weight_decay"]) or real(p, *a, **kw)
    )
    hp = {"weight_decay": 0.05, "maximize": name == "adam"}
    ours = _run_population(name, hp, LR)
    assert seen == [0.0] * STEPS
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adagrad": torch.optim.Adagrad}[name]
    _assert_rel(ours, _run_torch(cls, _per_model(hp), LR))


@pytest.mark.parametrize("name", sorted(FUSED))
def test_lr_scaled_float32_stays_within_rounding_of_a_model_alone(name):
    """float32: a model in an lr grid (lr-scaled step) against the same model alone (the plain
    fused kernel with its lr), 100 steps: they differ by rounding only."""
    lrs = [0.05, 0.01, 0.002]
    g = torch.Generator().manual_seed(3)
    init = torch.randn(3, 40, 7, generator=g)
    grads = torch.randn(100, 3, 40, 7, generator=g)
    pop = init.clone().requires_grad_()
    opt = create_optimizer(name, [pop], lr=torch.tensor(lrs))
    alone = [init[i : i + 1].clone().requires_grad_() for i in range(3)]
    opts = [create_optimizer(name, [a], lr=lr) for a, lr in zip(alone, lrs, strict=True)]
    for s in range(100):
        pop.grad = grads[s] + pop.detach()  # a gradient that depends on the weights
        opt.step()
        for i, (a, o) in enumerate(zip(alone, opts, strict=True)):
            a.grad = grads[s, i : i + 1] + a.detach()
            o.step()
    for i, a in enumerate(alone):
        assert (a.detach() - init[i]).abs().max() > 0.01  # it trained
        # a few float32 ulps (measured: at most 1e-6 on values up to 3)
        torch.testing.assert_close(pop.detach()[i], a.detach()[0], rtol=2e-6, atol=1e-6)


def test_fused_true_refuses_non_cpu_tensors():
    """Refused when the optimizer is built (not at its first step, after a run folder was
    made); the meta device launches nothing."""
    p = torch.zeros(2, 3, device="meta", requires_grad=True)
    with pytest.raises(ConfigError, match="fused=True takes trainlab's fused CPU kernels"):
        create_optimizer("adam", [p], fused=True)
    create_optimizer("adam", [p])  # auto: the _foreach path there


# -- per-parameter step counts, late gradients, dtypes, torch schedulers ------------------------
def _late_run(name, torch_cls, hp, *, fused, torch_kw, steps=6, late=3):
    """Params a, b; b has no gradient for the first ``late`` steps (unfreezing, a branch not
    taken). Returns (ours, torch per model, optimizer), float32 so that a rounding shows.

    The reference is one torch optimizer per model and parameter (torch's state is per
    parameter anyway; and torch's own fused SGD mixes up buffers when only some exist)."""
    g = torch.Generator().manual_seed(0)
    k = 2
    init = [torch.randn(k, 3, generator=g), torch.randn(k, 4, generator=g)]
    ours = [p.clone() for p in init]
    opt = create_optimizer(name, ours, **hp, fused=fused)
    refs = [[p[m].clone() for p in init] for m in range(k)]
    ropts = [torch_cls([r], **hp, **torch_kw) for rs in refs for r in rs]
    for t in range(steps):
        grads = [torch.randn(k, 3, generator=g), torch.randn(k, 4, generator=g)]
        for i, p in enumerate(ours):
            p.grad = grads[i].clone() if i == 0 or t >= late else None
        for m in range(k):
            for i, r in enumerate(refs[m]):
                r.grad = grads[i][m].clone() if i == 0 or t >= late else None
        opt.step()
        for o in ropts:
            o.step()
    return ours, refs, opt


LATE_CASES = [
    ("adam", torch.optim.Adam, {"lr": 0.1}),
    ("adamw", torch.optim.AdamW, {"lr": 0.1, "amsgrad": True}),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.5}),
    ("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    ("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
]


@pytest.mark.parametrize("fused", [False, True], ids=["foreach", "fused"])
@pytest.mark.parametrize("name,torch_cls,hp", LATE_CASES, ids=lambda v: str(v)[:30])
def test_a_parameter_that_starts_late_matches_torch_exactly(name, torch_cls, hp, fused):
    """torch keeps a step count (Adam/Adagrad) and a momentum buffer (SGD) per parameter: the
    late parameter gets its own bias correction / first momentum step, the early one keeps its
    own. Our fused path equals torch's fused kernels, our _foreach path torch's default (the
    fused SGD kernel rounds a last bit differently on a (K, n) tensor than on n elements: a
    ~1e-9 tolerance there; the defect this guards against was 0.5 off)."""
    ours, refs, opt = _late_run(name, torch_cls, hp, fused=fused,
                                torch_kw={"fused": True} if fused else {})  # fmt: skip
    for m in range(2):
        for p, r in zip(ours, refs[m], strict=True):
            if name == "sgd" and fused:
                torch.testing.assert_close(p[m], r, rtol=1e-7, atol=1e-8)
            else:
                assert torch.equal(p[m], r), (p[m] - r).abs().max()
    if name != "sgd":
        assert [opt.state[p]["step"] for p in ours] == [6, 3]  # torch's per-param layout


def _saved(sd: dict) -> dict:
    """``sd`` through ``torch.save``/``torch.load``, as a checkpoint (no tensors shared)."""
    import io

    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_per_parameter_steps_survive_a_state_dict_round_trip():
    ours, _, opt = _late_run("adam", torch.optim.Adam, {"lr": 0.1}, fused=False, torch_kw={})
    sd = _saved(opt.state_dict())
    assert [int(sd["state"][i]["step"]) for i in (0, 1)] == [6, 3]
    copy = [p.detach().clone() for p in ours]
    opt2 = create_optimizer("adam", copy, lr=0.1, fused=False)
    opt2.load_state_dict(sd)
    for _ in range(2):
        _assert_same_step(opt, opt2, ours, copy)
    assert [opt2.state[p]["step"] for p in copy] == [8, 5]


def test_a_torch_adam_state_dict_loads_with_its_tensor_steps_and_betas():
    params = [p.clone() for p in _init()]
    ref = torch.optim.Adam(params, lr=0.1, betas=(0.8, 0.99))
    for p in params:
        p.grad = torch.ones_like(p)
    ref.step()
    opt = create_optimizer("adam", [p.clone() for p in params], lr=0.1)
    opt.load_state_dict(_saved(ref.state_dict()))
    assert opt.param_groups[0]["betas"] == (0.8, 0.99)
    assert [int(s["step"]) for s in opt.state.values()] == [1, 1, 1]


def test_float32_params_with_float64_per_model_values_round_like_torch():
    """Per-model values stay float64; derived values (η/(1−β₁ᵗ), 1−β₂, …) round once to float32,
    as torch's Python-float arithmetic does: bit-identical to torch on the _foreach path."""
    lrs, b1s, b2s = [0.1, 0.03, 0.007], [0.9, 0.8, 0.5], [0.999, 0.99, 0.9]
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    g = torch.Generator().manual_seed(2)
    init = [torch.randn(3, 5, 4, generator=g), torch.randn(3, 5, generator=g)]
    for name, torch_cls, hp, per_model in [
        ("adam", torch.optim.Adam, {"lr": f64(lrs), "betas": (f64(b1s), f64(b2s))},
         lambda m: {"lr": lrs[m], "betas": (b1s[m], b2s[m])}),
        ("adamw", torch.optim.AdamW, {"lr": f64(lrs), "weight_decay": f64(b1s)},
         lambda m: {"lr": lrs[m], "weight_decay": b1s[m]}),
        ("adagrad", torch.optim.Adagrad, {"lr": f64(lrs), "lr_decay": f64(b2s)},
         lambda m: {"lr": lrs[m], "lr_decay": b2s[m]}),
        ("sgd", torch.optim.SGD, {"lr": f64(lrs), "momentum": f64(b1s), "dampening": f64(b2s)},
         lambda m: {"lr": lrs[m], "momentum": b1s[m], "dampening": b2s[m]}),
    ]:  # fmt: skip
        ours = [p.clone() for p in init]
        opt = create_optimizer(name, ours, **hp, fused=False)
        refs = [[p[m].clone() for p in init] for m in range(3)]
        ropts = [torch_cls(refs[m], **per_model(m)) for m in range(3)]
        for _ in range(4):
            grads = [torch.randn(p.shape, generator=g) for p in init]
            for p, gr in zip(ours, grads, strict=True):
                p.grad = gr.clone()
            for m in range(3):
                for r, gr in zip(refs[m], grads, strict=True):
                    r.grad = gr[m].clone()
            opt.step()
            for o in ropts:
                o.step()
        for m in range(3):
            for p, r in zip(ours, refs[m], strict=True):
                assert torch.equal(p[m], r), (name, (p[m] - r).abs().max())


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_16bit_params_keep_per_model_betas_in_full_precision(dtype):
    """β₂ = 0.999 as a per-model tensor next to bfloat16 params must not round to 1.0 (v would
    never grow, and the step divides by ~0: NaN). Same result as a float β₂ and as torch."""
    init = torch.full((2, 4), 1.0, dtype=dtype)
    runs = []
    for b2 in (0.999, torch.tensor([0.999, 0.999])):
        p = init.clone()
        opt = create_optimizer("adam", [p], lr=1e-3, betas=(0.9, b2), fused=False)
        for _ in range(5):
            p.grad = torch.full_like(p, 0.01)
            opt.step()
        runs.append(p)
    r = init[0].clone()
    ref = torch.optim.Adam([r], lr=1e-3)
    for _ in range(5):
        r.grad = torch.full_like(r, 0.01)
        ref.step()
    assert torch.isfinite(runs[1]).all()
    assert torch.equal(runs[0], runs[1])
    assert torch.equal(runs[1][0], r)
    # RMSprop's α too (it rounded to 0.9883 in bfloat16)
    outs = []
    for alpha in (0.99, torch.tensor([0.99, 0.99])):
        p = init.clone()
        opt = create_optimizer("rmsprop", [p], lr=1e-3, alpha=alpha)
        for _ in range(5):
            p.grad = torch.full_like(p, 0.01)
            opt.step()
        outs.append(p)
    assert torch.equal(outs[0], outs[1])


@pytest.mark.parametrize("name", ["sgd", "adam"])
@pytest.mark.parametrize("fused", [None, False])
def test_a_0d_tensor_lr_on_the_group_is_shared(name, fused):
    init = _init()
    a, b = [p.clone() for p in init], [p.clone() for p in init]
    oa = create_optimizer(name, a, lr=0.1, fused=fused)
    ob = create_optimizer(name, b, lr=0.1, fused=fused)
    ob.param_groups[0]["lr"] = torch.tensor(0.05, dtype=torch.float64)
    oa.param_groups[0]["lr"] = 0.05
    _assert_same_step(oa, ob, a, b)


def test_a_wrong_length_lr_set_on_the_group_is_a_clear_error():
    params = _init()
    opt = create_optimizer("sgd", params, lr=0.1)
    opt.param_groups[0]["lr"] = torch.full((K + 1,), 0.1)
    for p in params:
        p.grad = torch.ones_like(p)
    with pytest.raises(ConfigError, match=f"lr has shape \\({K + 1},\\) but the population"):
        opt.step()


def test_torch_schedulers_work_with_shared_lrs_and_refuse_per_model_ones():
    from torch.optim import lr_scheduler as tls

    for lr in (0.1, torch.tensor(0.1)):
        p = torch.zeros(K, 2, requires_grad=True)
        opt = create_optimizer("sgd", [p], lr=lr)
        sched = tls.StepLR(opt, 1, 0.5)
        for _ in range(3):
            p.grad = torch.ones_like(p)
            opt.step()
            sched.step()
        assert float(opt.param_groups[0]["lr"]) == pytest.approx(0.0125)
    opt = create_optimizer(
        "adam", [torch.zeros(K, 2, requires_grad=True)], lr=torch.full((K,), 0.1)
    )
    with pytest.raises(ConfigError, match="per-model lr tensor of K=4; use trainlab.optim.create"):
        tls.CosineAnnealingLR(opt, 10)


@pytest.mark.parametrize("per_model_beta2", [False, True])
def test_one_cycle_lr_cycles_adams_beta1_like_torch(per_model_beta2):
    """OneCycleLR/CyclicLR cycle momentum through ``group["betas"]``: β₁ is cycled, a per-model
    β₂ is kept. Same trajectory as torch.optim.Adam with the same scheduler, per model."""
    from torch.optim import lr_scheduler as tls

    b2 = torch.full((K,), 0.99, dtype=torch.float64) if per_model_beta2 else 0.99
    g = torch.Generator().manual_seed(0)
    init = torch.randn(K, 3, generator=g)
    p = init.clone().requires_grad_()
    opt = create_optimizer("adam", [p], lr=0.1, betas=(0.9, b2), fused=False)
    sched = tls.OneCycleLR(opt, max_lr=0.1, total_steps=8)
    refs = [init[m].clone().requires_grad_() for m in range(K)]
    ropts = [torch.optim.Adam([r], lr=0.1, betas=(0.9, 0.99)) for r in refs]
    rscheds = [tls.OneCycleLR(o, max_lr=0.1, total_steps=8) for o in ropts]
    for _ in range(7):
        grad = torch.randn(K, 3, generator=g)
        p.grad = grad.clone()
        for m in range(K):
            refs[m].grad = grad[m].clone()
        opt.step()
        sched.step()
        for o, s in zip(ropts, rscheds, strict=True):
            o.step()
            s.step()
    assert opt.param_groups[0]["betas"][0] == ropts[0].param_groups[0]["betas"][0] != 0.9
    assert opt.param_groups[0]["betas"][1] is not None
    for m in range(K):
        assert torch.equal(p[m], refs[m])


def test_checkpoints_with_beta1_beta2_keys_still_load():
    """Before ``betas`` was one pair, Adam's groups held ``beta1``/``beta2``."""
    init = _init()
    a = [p.clone() for p in init]
    oa = create_optimizer("adam", a, betas=(torch.full((K,), 0.8, dtype=torch.float64), 0.99))
    for p in a:
        p.grad = torch.ones_like(p)
    oa.step()
    sd = _saved(oa.state_dict())
    group = sd["param_groups"][0]
    group["beta1"], group["beta2"] = group.pop("betas")
    b = [p.clone() for p in a]
    ob = create_optimizer("adam", b)
    ob.load_state_dict(sd)
    assert "beta1" not in ob.param_groups[0]
    assert torch.equal(ob.param_groups[0]["betas"][0], torch.full((K,), 0.8, dtype=torch.float64))
    _assert_same_step(oa, ob, a, b)


def test_fused_true_names_non_contiguous_params():
    p = torch.zeros(3, K).t().requires_grad_()  # (K, 3), not contiguous
    p.grad = torch.ones(K, 3)
    opt = create_optimizer("adam", [p], fused=True)
    with pytest.raises(ConfigError, match="got a non-contiguous tensor of shape \\(4, 3\\)"):
        opt.step()


def test_a_per_model_value_that_rounds_out_of_range_in_storage_is_a_clear_error(monkeypatch):
    """Where hyperparameters are stored in float32 (MPS), β₂ = 0.999999999 rounds to 1.0: the
    check runs again after the cast instead of letting v stop growing (NaN steps)."""
    from trainlab.optim import base

    monkeypatch.setattr(base, "hyper_dtype", lambda device: torch.float32)
    b2 = torch.full((K,), 0.999999999, dtype=torch.float64)
    with pytest.raises(ConfigError, match="beta2 .* rounds out of range in torch.float32 on cpu"):
        create_optimizer("adam", _init(), betas=(0.9, b2))
    opt = create_optimizer("adam", _init(), betas=(0.9, torch.full((K,), 0.999)))
    assert opt.param_groups[0]["betas"][1].dtype == torch.float32


def _assert_same_step(oa, ob, a: list[torch.Tensor], b: list[torch.Tensor]) -> None:
    """One step of both optimizers on gradients of ones leaves equal parameters."""
    for p, q in zip(a, b, strict=True):
        p.grad = torch.ones_like(p)
        q.grad = torch.ones_like(q)
    oa.step()
    ob.step()
    for p, q in zip(a, b, strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("lr", [0.05, [0.05, 0.02, 0.01, 0.0]], ids=["shared-lr", "lr-grid"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_16bit_sgd_trains_like_torch_per_model(dtype, lr, momentum):
    """16-bit SGD with the default ``fused`` (auto): every weight moves as torch.optim.SGD's
    default (non-fused) path moves it, per model. torch 2.12-2.13's CPU ``_fused_sgd_`` left the
    full SIMD blocks of a float16/bfloat16 tensor as they were (pytorch/pytorch#191763), so
    models of 64 weights did not train at all, shared lr or lr grid (the lr-scaled path)."""
    from trainlab.optim.sgd import fused_sgd_handles_16bit

    g = torch.Generator().manual_seed(0)
    init = torch.randn(K, 8, 8, generator=g).to(dtype)
    grads = torch.randn(5, K, 8, 8, generator=g).to(dtype)
    lrs = lr if isinstance(lr, list) else [lr] * K
    pop = init.clone().requires_grad_()
    opt = create_optimizer(
        "sgd", [pop], lr=torch.tensor(lr, dtype=torch.float64) if isinstance(lr, list) else lr,
        momentum=momentum,
    )  # fmt: skip
    for s in range(5):
        pop.grad = grads[s].clone()
        opt.step()
    for i in range(K):
        ref = init[i].clone().requires_grad_()
        o = torch.optim.SGD([ref], lr=lrs[i], momentum=momentum)
        for s in range(5):
            ref.grad = grads[s, i].clone()
            o.step()
        moved = (ref.detach().float() - init[i].float()).abs()
        assert lrs[i] == 0 or float((moved > 0).float().mean()) > 0.5  # the reference trains
        ulp = 2**-7 if dtype == torch.bfloat16 else 2**-10
        torch.testing.assert_close(
            pop.detach()[i].float(), ref.detach().float(), rtol=4 * ulp, atol=4 * ulp
        )
    if not fused_sgd_handles_16bit():
        ps = [torch.zeros(K, 64, dtype=dtype, requires_grad=True)]
        with pytest.raises(ConfigError, match="191763"):
            ps[0].grad = torch.ones_like(ps[0])
            create_optimizer("sgd", ps, lr=0.1, fused=True).step()
