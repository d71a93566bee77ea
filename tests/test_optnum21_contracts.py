"""Review findings (optnum21): numerical edge cases of the population optimizers."""

import torch

from trainlab.optim import SGD


def test_sgd_lr_grid_model_with_lr_above_one_moves_as_alone():
    # base.py lr_scaled: the small-model fused path steps with lr=1 and lerps by η_k, so an
    # update u below half an ulp of θ is rounded away before it is scaled: a model with lr=10
    # in an lr grid never moves, while alone (or in torch.optim) it moves by η·u each step.
    # Right: the model's result depends only on its own lr (to rounding of its own update).
    torch.manual_seed(0)
    th0 = 1.0 + torch.rand(2, 50)  # float32 weights in [1, 2): ulp 1.19e-7
    g = torch.full((2, 50), 1e-8)
    pop = th0.clone().requires_grad_()
    opt = SGD([pop], lr=torch.tensor([0.1, 10.0], dtype=torch.float64))
    alone = th0[1:].clone().requires_grad_()
    opt1 = SGD([alone], lr=10.0)
    for _ in range(100):
        pop.grad, alone.grad = g.clone(), g[1:].clone()
        opt.step()
        opt1.step()
    moved_alone = (th0[1] - alone[0].detach()).mean().item()  # ≈ 1.19e-5 (torch.optim too)
    moved_pop = (th0[1] - pop[1].detach()).mean().item()  # 0.0 today
    assert moved_alone > 1e-5
    assert abs(moved_pop - moved_alone) < 0.1 * moved_alone
