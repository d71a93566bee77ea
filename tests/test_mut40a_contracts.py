"""Mutation review mut40a: the fused-CPU-kernel helpers of trainlab.optim.base (cpow,
equal_runs, lr_scaled, decay_outside, ...) and the choice between fused runs, lr-scaled fused
steps and the _foreach path. Expected values come from Python's float arithmetic, the
docstrings, and torch.optim stepping each model alone."""

from __future__ import annotations

import torch

from trainlab.optim import create_optimizer
from trainlab.optim.base import cpow, equal_runs


def test_cpow_of_common_betas_rounds_as_pythons_float_power_for_every_step():
    """cpow's docstring: ``x ** e`` rounded as Python's float power, as torch.optim's host-side
    bias corrections ``β ** t`` are (tensor ``pow`` by a scalar special-cases exponents and
    differs in the last bit): common betas, steps 1..300, bit for bit."""
    betas = [0.9, 0.99, 0.999, 0.95, 0.8, 0.5, 0.9999, 0.98]
    x = torch.tensor(betas, dtype=torch.float64)
    for t in range(1, 301):
        want = torch.tensor([b**t for b in betas], dtype=torch.float64)
        assert torch.equal(cpow(x, t), want), t


def test_cpow_of_random_betas_on_the_cpu_is_c_pow_of_each_value():
    """cpow on a float64 CPU tensor: C's ``pow`` per value (Python's ``β ** t``), not the
    vectorized kernel, which on an AVX2 CPU was an ulp off for ~1.7% of random βᵗ (per-model
    betas then stepped apart from torch.optim.Adam alone); ``** 0.5`` as Python's; a shape kept;
    C's domain errors and overflows give torch's NaN and inf."""
    import random

    rng = random.Random(0)
    betas = [rng.uniform(0.5, 0.99) for _ in range(500)]
    x = torch.tensor(betas, dtype=torch.float64)
    for t in range(1, 61):
        want = torch.tensor([b**t for b in betas], dtype=torch.float64)
        assert torch.equal(cpow(x, t), want), t
    c = [1.0 - b**7 for b in betas]
    assert torch.equal(cpow(torch.tensor(c, dtype=torch.float64), 0.5),
                       torch.tensor([v**0.5 for v in c], dtype=torch.float64))  # fmt: skip
    grid = torch.tensor([[0.9, 0.5], [0.25, 0.99]], dtype=torch.float64)
    assert torch.equal(
        cpow(grid, 3), torch.tensor([[0.9**3, 0.5**3], [0.25**3, 0.99**3]], dtype=torch.float64)
    )
    odd = cpow(torch.tensor([-0.5, 1e300, 0.0], dtype=torch.float64), 0.5)
    assert odd[0].isnan() and odd[1] == 1e150 and odd[2] == 0.0
    assert cpow(torch.tensor([1e300], dtype=torch.float64), 2)[0] == float("inf")
    assert cpow(torch.tensor(0.9, dtype=torch.float64), 2).shape == ()


def test_equal_runs_refuses_more_runs_than_max_runs_exactly_at_the_boundary():
    """``None if there are more than max_runs runs``: two runs against max_runs=1 is None,
    against max_runs=2 it is the two runs."""
    v = {"eps": torch.tensor([1e-8, 1e-8, 1e-6, 1e-6], dtype=torch.float64), "lr": 0.1}
    assert equal_runs(4, v, max_runs=1) is None
    assert equal_runs(4, v, max_runs=2) == [
        (0, 2, {"lr": 0.1, "eps": 1e-8}),
        (2, 4, {"lr": 0.1, "eps": 1e-6}),
    ]
    assert equal_runs(4, v, max_runs=3) is not None


def test_tiny_models_with_two_runs_of_another_value_take_one_broadcast_step(monkeypatch):
    """base.py: small models (< FUSED_MIN_NUMEL each) with a per-model value other than the lr
    and the decay take the _foreach broadcast step, not a fused call per run, even when that is
    only two runs; the result still equals torch.optim.Adam per model."""
    calls = []
    real = torch._fused_adam_
    monkeypatch.setattr(
        torch, "_fused_adam_", lambda p, *a, **kw: calls.append(len(p)) or real(p, *a, **kw)
    )
    g = torch.Generator().manual_seed(0)
    init = torch.randn(4, 10, generator=g, dtype=torch.float64)
    grad = torch.randn(4, 10, generator=g, dtype=torch.float64)
    eps = [1e-8, 1e-8, 1e-1, 1e-1]
    p = init.clone().requires_grad_()
    p.grad = grad.clone()
    create_optimizer("adam", [p], lr=0.1, eps=torch.tensor(eps, dtype=torch.float64)).step()
    assert calls == []
    for i in range(4):
        q = init[i].clone().requires_grad_()
        q.grad = grad[i].clone()
        torch.optim.Adam([q], lr=0.1, eps=eps[i], foreach=True).step()
        torch.testing.assert_close(p.detach()[i], q.detach(), rtol=1e-12, atol=1e-14)


def test_lr_scaled_16bit_step_applies_each_models_lr_in_float32_like_torch_alone():
    """lr_scaled/_add_scaled_: a 16-bit θ becomes ``θ₀ + w_k Δ`` computed in float32 and
    rounded once, as torch's fused Adam of a model alone computes ``θ₀ − η_k u``. With betas
    (0, 0) and a negligible eps, the first Adam step is ``u = sign(g)`` exactly and the largest
    lr is 1, so ``Δ = −u`` is exact and the lr-scaled step must equal torch.optim.Adam(fused)
    of each model alone bit for bit (a blend weight rounded to 16 bits is not)."""
    calls = []
    real = torch._fused_adam_
    for dt in (torch.bfloat16, torch.float16):
        g = torch.Generator().manual_seed(0)
        init = (torch.randn(4, 256, generator=g) * 4).to(dt)
        grad = torch.randn(4, 256, generator=g).to(dt)
        lrs = [0.3, 0.07, 1.0, 0.0]
        p = init.clone().requires_grad_()
        p.grad = grad.clone()
        opt = create_optimizer("adam", [p], lr=torch.tensor(lrs), betas=(0.0, 0.0), eps=1e-30)
        calls.clear()
        torch._fused_adam_ = lambda ps, *a, **kw: calls.append(kw["lr"]) or real(ps, *a, **kw)
        try:
            opt.step()
        finally:
            torch._fused_adam_ = real
        assert calls == [1.0]  # one lr-scaled call with the largest lr
        for i in range(4):
            q = init[i].clone().requires_grad_()
            q.grad = grad[i].clone()
            torch.optim.Adam([q], lr=lrs[i], betas=(0.0, 0.0), eps=1e-30, fused=True).step()
            assert torch.equal(p.detach()[i], q.detach()), (dt, i)


def test_named_parameters_step_like_torch():
    """group_params: ``(name, parameter)`` pairs from ``named_parameters()`` are taken as
    torch.optim takes them (the names kept, the tensors stepped)."""
    w = torch.ones(3, 5, requires_grad=True)
    b = torch.ones(3, 2, requires_grad=True)
    w.grad, b.grad = torch.full((3, 5), 2.0), torch.full((3, 2), -1.0)
    opt = create_optimizer("sgd", [("w", w), ("b", b)], lr=0.25)
    opt.step()
    assert torch.equal(w.detach(), torch.full((3, 5), 0.5))
    assert torch.equal(b.detach(), torch.full((3, 2), 1.25))
    ref = torch.optim.SGD([("w", w.detach().clone()), ("b", b.detach().clone())], lr=0.25)
    assert opt.param_groups[0].get("param_names") == ref.param_groups[0]["param_names"]


def test_an_all_zero_per_model_lr_on_the_fused_path_leaves_the_weights_bit_for_bit():
    """lr-scaled fused step with every η_k = 0 (a schedule at its end, every model stopped):
    torch.optim with lr 0 does not move a weight; neither may the population (no 0/0 blend)."""
    for name in ("sgd", "adam", "adamw"):
        g = torch.Generator().manual_seed(1)
        init = torch.randn(4, 6, generator=g)
        p = init.clone().requires_grad_()
        p.grad = torch.randn(4, 6, generator=g)
        opt = create_optimizer(name, [p], lr=torch.tensor([0.1, 0.2, 0.3, 0.4]))
        opt.param_groups[0]["lr"] = torch.zeros(4, dtype=torch.float64)
        opt.step()
        assert torch.equal(p.detach(), init), name


def test_load_state_dict_refuses_state_of_another_population_size():
    """load_state_dict: state of another shape than its parameter (here K=3 moments into a
    K=4 optimizer) is refused before anything is loaded."""
    src = torch.zeros(3, 5, requires_grad=True)
    src.grad = torch.ones(3, 5)
    a = create_optimizer("adam", [src], lr=0.1)
    a.step()
    dst = torch.zeros(4, 5, requires_grad=True)
    b = create_optimizer("adam", [dst], lr=0.1)
    try:
        b.load_state_dict(a.state_dict())
    except ValueError as e:
        assert "does not fit" in str(e)
    else:
        raise AssertionError("state of shape (3, 5) loaded into a (4, 5) parameter")
    assert len(b.state) == 0


def test_load_state_dict_keeps_per_model_values_in_float64_on_the_cpu():
    """load_state_dict's docstring: per-model hyperparameter tensors go back in hyper_dtype
    (float64 off MPS); older checkpoints kept them in the parameters' dtype (float32)."""
    p = torch.zeros(3, 5, requires_grad=True)
    opt = create_optimizer("sgd", [p], lr=[0.1, 0.2, 0.3], momentum=[0.0, 0.5, 0.9])
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = sd["param_groups"][0]["lr"].float()
    sd["param_groups"][0]["momentum"] = sd["param_groups"][0]["momentum"].float()
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"].dtype == torch.float64
    assert opt.param_groups[0]["momentum"].dtype == torch.float64


def test_fused_true_refuses_a_group_with_any_parameter_off_the_cpu():
    """add_param_group: fused=True with a parameter on another device is refused when the
    optimizer is built, even where the group's other parameters are on the CPU."""
    cpu = torch.zeros(2, 3, requires_grad=True)
    meta = torch.zeros(2, 3, device="meta", requires_grad=True)
    for params in ([meta, cpu], [cpu, meta]):
        try:
            create_optimizer("adam", params, lr=0.1, fused=True)
        except Exception as e:  # noqa: BLE001
            assert "fused=True" in str(e), e
        else:
            raise AssertionError("fused=True took a group with a meta parameter")


def test_fused_true_refusal_names_the_device_that_is_not_the_cpu():
    """A fused=True group whose first parameter is on the CPU and a later one on another device
    is refused; the message named the first parameter's device ("the parameters are on cpu"),
    the one device fused=True takes."""
    import pytest

    from trainlab.errors import ConfigError

    cpu = torch.zeros(2, 3, requires_grad=True)
    meta = torch.zeros(2, 3, device="meta", requires_grad=True)
    with pytest.raises(ConfigError, match="meta"):
        create_optimizer("adam", [cpu, meta], lr=0.1, fused=True)
