"""Review k22: DESIGN.md principle 2 (a model's result depends only on its own config and seed,
never on K or its slot) for the optimizers' lr-scaled fused CPU step (base.py lr_scaled)."""

import pytest
import torch

from trainlab.optim import SGD, Adam


@pytest.mark.parametrize(
    ("cls", "lrs", "grad"),
    [(SGD, (0.5, 0.8), 1e-7), (Adam, (5e-8, 8e-8), 1.0)],
    ids=["sgd", "adam"],
)
def test_lr_grid_model_with_sub_ulp_update_stays_as_alone(cls, lrs, grad):
    # base.py lr_scaled: the kernel steps θ₁ = θ₀ − η_max·u rounded at θ₀'s ulp, then the blend
    # θ₀ + (η_k/η_max)(θ₁ − θ₀) moves a model whose own update η_k·u is under half an ulp by a
    # whole ulp every step (a systematic drift): alone (and in torch.optim) it does not move,
    # beside a neighbour with lr 0.8 it moves 1 ulp per step (1.19e-5 after 100 steps, 2.4x the
    # exact 5e-6). Right: the model moves as it does alone, to rounding of its own update
    # (e.g. step a zero copy, Δ = −η_max·u, then θ ← θ₀ + w_k·Δ, with the decay outside).
    torch.manual_seed(0)
    th0 = 1.0 + torch.rand(2, 50)  # float32 weights in [1, 2): ulp 1.19e-7, half-ulp 5.96e-8
    g = torch.full((2, 50), grad)
    pop = th0.clone().requires_grad_()
    alone = th0[:1].clone().requires_grad_()
    opt = cls([pop], lr=torch.tensor(lrs, dtype=torch.float64))
    opt1 = cls([alone], lr=lrs[0])
    for _ in range(100):
        pop.grad, alone.grad = g.clone(), g[:1].clone()
        opt.step()
        opt1.step()
    moved_alone = (th0[0] - alone[0].detach()).mean().item()  # 0.0 (torch.optim too)
    moved_pop = (th0[0] - pop[0].detach()).mean().item()  # 1.19e-5 today
    exact = 100 * 5e-8  # η·u per step in exact arithmetic, 100 steps
    assert abs(moved_pop - moved_alone) < 0.1 * exact
