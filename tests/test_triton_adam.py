"""The one-pass Triton Adam(W) (trainlab.optim.triton_adam) against the _foreach path.

Where Triton is installed but there is no GPU, the kernel runs in Triton's CPU interpreter; the
CUDA tests run the compiled kernel through the optimizer and a trainer. Without Triton (CI's CPU
machines) everything here skips.
"""

from __future__ import annotations

import pytest
import torch

from trainlab.optim import Adam, AdamW, triton_adam

pytestmark = pytest.mark.skipif(not triton_adam.available(), reason="Triton is not installed")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

K = 4
SHAPES = [(K, 5, 3), (K, 3), (K, 1)]


def _params(seed: int, device: str = "cpu") -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g).to(device).requires_grad_() for s in SHAPES]


def _grads(step: int, device: str = "cpu") -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(100 + step)
    return [torch.randn(s, generator=g).to(device) for s in SHAPES]


def _per_model(values: list[float], device: str = "cpu") -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, device=device)


CASES = {
    "adam": (Adam, {}),
    "per-model lr": (Adam, {"lr": _per_model([1e-3, 0.0, 3e-2, 1e-1])}),
    "per-model betas, eps": (
        Adam,
        {
            "betas": (_per_model([0.9, 0.5, 0.0, 0.99]), 0.99),
            "eps": _per_model([1e-8, 1e-3, 1.0, 1e-6]),
        },
    ),
    "l2": (Adam, {"weight_decay": 0.1}),
    "per-model l2": (Adam, {"weight_decay": _per_model([0.0, 0.1, 1.0, 0.01])}),
    "adamw": (AdamW, {"lr": _per_model([1e-3, 0.0, 3e-2, 1e-1]), "weight_decay": 0.5}),
    "amsgrad, maximize": (Adam, {"amsgrad": True, "maximize": True, "betas": (0.6, 0.7)}),
}


def _run(opt_cls, options: dict, *, triton: bool, device: str = "cpu", steps: int = 4, mask=False):
    """``steps`` steps; ``mask``: a gradient mask of all-running models each step, as the
    trainer hands one (on CUDA the Triton kernel takes it; without one a step whose values
    are all plain numbers takes torch's fused kernel)."""
    params = _params(0, device)
    options = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in options.items()}
    if isinstance(options.get("betas"), tuple):
        options["betas"] = tuple(
            b.to(device) if isinstance(b, torch.Tensor) else b for b in options["betas"]
        )
    opt = opt_cls(params, fused=False, **options)
    calls = []
    if triton and device == "cpu":  # the dispatch takes CUDA only: call the kernel directly

        def step_group(group, ps, gs):
            calls.append(1)
            state = [opt.state[p] for p in ps]
            for s, p in zip(state, ps, strict=True):
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
            hp = opt._values(group)
            triton_adam.adam_step_(
                ps, gs, [s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state],
                [s["max_exp_avg_sq"] for s in state] if group["amsgrad"] else None,
                k=K, t=[s["step"] for s in state], decoupled=opt._decoupled,
                maximize=group["maximize"],
                **{key: hp[key] for key in ("lr", "beta1", "beta2", "eps", "weight_decay")},
            )  # fmt: skip

        opt._step_group = step_group
    elif triton:  # CUDA: the optimizer's own dispatch (auto) takes the kernel
        for group in opt.param_groups:
            group["fused"] = None
    for step in range(steps):
        for p, g in zip(params, _grads(step, device), strict=True):
            p.grad = g
        if mask:
            opt.grad_mask = torch.ones(K, dtype=torch.bool, device=device)
        opt.step()
    if triton and device == "cpu":
        assert calls, "the kernel never ran"
    return [p.detach().cpu() for p in params], opt


@pytest.mark.parametrize("case", list(CASES))
def test_interpreted_kernel_steps_as_the_foreach_path(case):
    """Four steps of every variant: the kernel's parameters and moments match the _foreach
    path's to float rounding (and a model with lr 0 keeps its parameters bit for bit)."""
    opt_cls, options = CASES[case]
    want, want_opt = _run(opt_cls, options, triton=False)
    got, got_opt = _run(opt_cls, options, triton=True)
    for w, g in zip(want, got, strict=True):
        torch.testing.assert_close(g, w, rtol=2e-6, atol=1e-7)
    for pw, pg in zip(want_opt.state.values(), got_opt.state.values(), strict=True):
        torch.testing.assert_close(pg["exp_avg_sq"], pw["exp_avg_sq"], rtol=2e-6, atol=0)
    lr = options.get("lr")
    if isinstance(lr, torch.Tensor):
        frozen = _params(0)
        for p, f in zip(got, frozen, strict=True):
            assert torch.equal(p[1], f.detach()[1])  # lr 0: not moved at all


def test_interpreted_kernel_takes_a_device_step_count():
    """t as a 0-d tensor (a CUDA-graphed step's count) gives the steps of the host counts."""
    params = [p.detach() for p in _params(1)]
    twins = [p.clone() for p in params]
    states = [[torch.zeros_like(p) for p in params] for _ in range(4)]
    lr = _per_model([1e-2, 1e-3, 0.5, 0.0])
    for step in range(1, 4):
        grads = _grads(step)
        common = dict(k=K, lr=lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
        triton_adam.adam_step_(
            params, grads, states[0], states[1], None, t=[step] * 3,
            decoupled=False, maximize=False, **common,
        )  # fmt: skip
        triton_adam.adam_step_(
            twins, grads, states[2], states[3], None,
            t=torch.tensor(float(step), dtype=torch.float64),
            decoupled=False, maximize=False, **common,
        )  # fmt: skip
    for a, b in zip(params, twins, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-7, atol=0)


def test_usable_only_for_contiguous_float32_cuda_tensors():
    cpu = torch.zeros(2, 3)
    assert not triton_adam.usable([cpu])
    if torch.cuda.is_available():
        gpu = torch.zeros(2, 3, device="cuda")
        assert triton_adam.usable([gpu, gpu])
        assert not triton_adam.usable([gpu, gpu.double()])
        assert not triton_adam.usable([gpu, torch.zeros(3, 2, device="cuda").t()])
        assert not triton_adam.usable([gpu, cpu])


@cuda
@pytest.mark.parametrize("case", list(CASES))
def test_cuda_adam_takes_the_kernel_and_steps_as_the_foreach_path(case, monkeypatch):
    """On CUDA, with the trainer's gradient mask, Adam's default path is the compiled kernel;
    it matches fused=False."""
    calls = []
    real = triton_adam.adam_step_

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(triton_adam, "adam_step_", counted)
    opt_cls, options = CASES[case]
    want, _ = _run(opt_cls, options, triton=False, device="cuda")
    assert not calls
    got, _ = _run(opt_cls, options, triton=True, device="cuda", mask=True)
    assert len(calls) == 4
    for w, g in zip(want, got, strict=True):
        torch.testing.assert_close(g, w, rtol=2e-6, atol=1e-7)


@cuda
@pytest.mark.parametrize("case", ["adam", "l2", "amsgrad, maximize"])
def test_cuda_adam_with_plain_values_takes_torchs_fused_kernel(case, monkeypatch):
    """Values all plain numbers and no mask: torch's fused CUDA kernel, not the Triton one;
    it matches fused=False too."""
    calls = []
    monkeypatch.setattr(triton_adam, "adam_step_", lambda *a, **k: calls.append(1))
    opt_cls, options = CASES[case]
    want, _ = _run(opt_cls, options, triton=False, device="cuda")
    got, opt = _run(opt_cls, options, triton=True, device="cuda")
    assert not calls
    assert opt._steps_buf is not None and opt._steps_buf.device.type == "cuda"
    for w, g in zip(want, got, strict=True):
        torch.testing.assert_close(g, w, rtol=2e-6, atol=1e-7)


@cuda
def test_cuda_trainer_with_the_kernel_matches_the_foreach_path(tmp_path):
    """A population trained on CUDA (graphs on) with the kernel ends where fused=False ends."""
    from conftest import small_config
    from trainlab.train import Trainer

    def final(fused: bool | None) -> list[torch.Tensor]:
        cfg = small_config(
            optim={"name": "adamw", "lr": 1e-2, "fused": fused},
            population={"seeds": [0, 1], "grid": {"optim.lr": [3e-2, 1e-3]}},
        )
        trainer = Trainer(cfg, device="cuda")
        trainer.fit()
        return [p.detach().cpu() for p in trainer.params]

    for w, g in zip(final(False), final(None), strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)


def test_interpreted_kernel_takes_a_stopped_models_nan_gradient_as_zero():
    """grad_mask False (a trainer's stopped model): its NaN gradient counts as zero in the
    kernel, as the _foreach path's masked ``.grad`` does; with lr 0 it does not move."""
    mask = torch.tensor([True, False, True, True])
    lr = _per_model([1e-2, 0.0, 1e-3, 0.1])
    results = []
    for kernel in (False, True):
        params = _params(2)
        opt = Adam(params, lr=lr, weight_decay=0.1, fused=False)
        for step in range(1, 4):
            for p, g in zip(params, _grads(step), strict=True):
                g[1] = float("nan")
                p.grad = g
            if not kernel:
                opt.grad_mask = mask
                opt.step()
                continue
            for p in params:
                opt.state[p].setdefault("exp_avg", torch.zeros_like(p))
                opt.state[p].setdefault("exp_avg_sq", torch.zeros_like(p))
            triton_adam.adam_step_(
                [p.detach() for p in params], [p.grad for p in params],
                [opt.state[p]["exp_avg"] for p in params],
                [opt.state[p]["exp_avg_sq"] for p in params], None,
                k=K, t=[step] * 3, lr=lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                decoupled=False, maximize=False, grad_mask=mask,
            )  # fmt: skip
            assert torch.isnan(params[0].grad[1]).all()  # .grad is left as it was
        results.append(([p.detach().clone() for p in params], opt))
    (want, w_opt), (got, g_opt) = results
    for w, g, start in zip(want, got, _params(2), strict=True):
        torch.testing.assert_close(g, w, rtol=2e-6, atol=1e-7)
        assert torch.equal(g[1], start.detach()[1])
    for pw, pg in zip(w_opt.state.values(), g_opt.state.values(), strict=True):
        assert torch.isfinite(pg["exp_avg"]).all()
        torch.testing.assert_close(pg["exp_avg"], pw["exp_avg"], rtol=2e-6, atol=1e-9)
