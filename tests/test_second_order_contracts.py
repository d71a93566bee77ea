"""Newton (``trainlab.optim.second_order``): the damped step on a zero Hessian, a singular
model failing alone in a population, and a clear error for a closure without a graph."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from trainlab.optim.second_order import Newton

F64 = torch.float64


def test_newton_with_damping_takes_the_damped_step_on_a_zero_hessian():
    """Damped Newton is documented as ``θ ← θ − η (H + λI)⁻¹ ∇L`` with ``H + λI`` positive
    definite once ``λ > 0`` exceeds −(smallest eigenvalue of H); the code even notes that a zero
    Hessian is fine with ``damping > 0``. When every model's loss is linear in its parameters
    (H = 0, e.g. a linear score, or the linear part of a problem in isolation) the step is
    ``θ − η ∇L / λ``. Instead ``flat_hessian`` asks autograd to differentiate a gradient that
    does not depend on θ and crashes with torch's "element 0 of tensors does not require grad"
    RuntimeError. Worse, whether it crashes depends on the *other* models: the same linear model
    steps fine when a neighbour in the population has a curved loss (then the stacked gradient
    carries a graph), so a model's result depends on who shares its population."""
    a = torch.tensor([[3.0, -1.0], [0.5, 2.0]], dtype=F64)
    x0 = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=F64)

    # one linear model next to a quadratic one: works
    x = x0.clone().requires_grad_()
    curv = torch.tensor([0.0, 1.0], dtype=F64)
    Newton([x], damping=2.0).step(lambda: (a * x).sum(1) + curv * (x**2).sum(1))
    torch.testing.assert_close(x.detach()[0], x0[0] - a[0] / 2.0, rtol=1e-12, atol=1e-12)

    # every model linear: the same damped step is expected, for each model
    x = x0.clone().requires_grad_()
    Newton([x], damping=2.0, lr=0.5).step(lambda: (a * x).sum(1))
    torch.testing.assert_close(x.detach(), x0 - 0.5 * a / 2.0, rtol=1e-12, atol=1e-12)


def _logistic_with_a_dead_feature(k: int):
    """K logistic-regression problems whose first input feature is always 0 (like the constant
    border pixels of ``digits``): the Hessian of the unregularized loss is singular."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(k, 40, 3, generator=g, dtype=F64)
    x[:, :, 0] = 0.0
    y = (torch.rand(k, 40, generator=g, dtype=F64) < 0.5).to(F64)
    return x, y


def _loss(w, x, y):
    z = (x * w.unsqueeze(-2)).sum(-1)
    return F.binary_cross_entropy_with_logits(z, y, reduction="none").mean(-1)


def test_newton_one_models_singular_hessian_does_not_break_the_others():
    """DESIGN.md principle 2: a model's result depends only on its own config, never on K or
    on who else is in the population; principle 6: a failing model stops itself, not the whole
    population. A damping grid is the natural population for Newton (``damping`` is per-model),
    e.g. λ ∈ {0, 0.1} on a logistic regression whose data has a constant-zero feature. The damped
    model alone steps fine; in the population, the undamped model's singular Hessian makes the
    batched ``torch.linalg.solve`` raise ``LinAlgError`` and nobody gets a step (a traceback
    instead of the damped model's result)."""
    x, y = _logistic_with_a_dead_feature(2)
    w0 = torch.tensor([[0.3, 0.2, -0.1], [0.3, 0.2, -0.1]], dtype=F64)

    # the damped model alone (its own data, λ = 0.1)
    alone = w0[1:].clone().requires_grad_()
    Newton([alone], damping=0.1).step(lambda: _loss(alone, x[1:], y[1:]))

    # the same model as member 1 of a population whose member 0 has λ = 0
    w = w0.clone().requires_grad_()
    opt = Newton([w], damping=torch.tensor([0.0, 0.1], dtype=F64))
    opt.step(lambda: _loss(w, x, y))
    torch.testing.assert_close(w.detach()[1], alone.detach()[0], rtol=1e-12, atol=1e-12)
    assert torch.isnan(w.detach()[0]).all()  # the singular model fails alone, visibly


def test_newton_refuses_a_closure_whose_losses_have_no_graph():
    """A closure reused from L-BFGS code that returns ``loss.detach()`` gives Newton nothing to
    differentiate; it must say so in one line, not fail inside autograd."""
    from trainlab.errors import ConfigError

    x = torch.ones(2, 3, dtype=F64, requires_grad=True)
    with pytest.raises(ConfigError, match="without a graph"):
        Newton([x]).step(lambda: (x**2).sum(1).detach())


def test_a_group_with_zero_lr_stays_put_even_when_the_hessian_is_singular():
    """Newton's docstring: "a group with η = 0 stays where it is". A model whose H + λI is
    singular gets a NaN step, and NaN·0 is NaN: the frozen group must still keep its values."""
    x, y = _logistic_with_a_dead_feature(1)
    w = torch.tensor([[0.3, 0.2, -0.1]], dtype=F64, requires_grad=True)
    frozen = torch.tensor([[0.5]], dtype=F64, requires_grad=True)
    opt = Newton([{"params": [w]}, {"params": [frozen], "lr": 0.0}], damping=0.0)
    opt.step(lambda: _loss(w, x, y) + (frozen**2).sum(1))
    assert torch.isnan(w.detach()).all()  # the singular model fails ...
    assert frozen.item() == 0.5  # ... but its frozen group stays where it is
