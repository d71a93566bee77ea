"""Review (newton33): second-order optimizers (population L-BFGS / Newton)."""

import torch

from trainlab.optim.second_order import LBFGS


def _losses(x: torch.Tensor) -> torch.Tensor:
    # model 0: a quadratic; model 1: sqrt, whose gradient is NaN once x < 0
    return torch.stack([0.5 * ((x[0] - 1) ** 2).sum(), torch.sqrt(x[1]).sum()])


# Wrong: LBFGS.step decides which models run with `active = max|g| > tolerance_grad`, which is
# False for a NaN gradient, so a model whose gradient is NaN at the start of a call is taken as
# *converged* and frozen at its last finite parameters. torch.optim.LBFGS (whose result the
# docstring promises to equal per model) tests `max|g| <= tolerance_grad` (False for NaN), keeps
# iterating and the diverged model's parameters become NaN; this same code does so too when the
# NaN appears mid-call (max_iter=3 in one call gives NaN, max_iter=1 in three calls gives a
# finite "converged" value). Here model 1 steps with lr=10 from 0.5 to 0.5 - 10·0.707 < 0 in the
# first call; the second call sees a NaN gradient. Expected: each model equals its own
# torch.optim.LBFGS run (model 1 NaN, model 0 unaffected). Fix: active = ~(max|g| <= tol_grad).
def test_lbfgs_nan_gradient_at_call_start_is_not_converged_like_torch() -> None:
    x0 = torch.tensor([[0.5], [0.5]], dtype=torch.float64)
    x = x0.clone().requires_grad_()
    opt = LBFGS([x], lr=10.0, max_iter=1)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = _losses(x)
        loss.sum().backward()
        return loss.detach()

    for _ in range(3):
        opt.step(closure)

    for i in range(2):
        y = x0[i].clone().requires_grad_()
        ref = torch.optim.LBFGS([y], lr=10.0, max_iter=1)

        def ref_closure(i: int = i, y: torch.Tensor = y, ref=ref) -> torch.Tensor:
            ref.zero_grad()
            loss = 0.5 * ((y - 1) ** 2).sum() if i == 0 else torch.sqrt(y).sum()
            loss.backward()
            return loss

        for _ in range(3):
            ref.step(ref_closure)
        torch.testing.assert_close(x[i].detach(), y.detach(), equal_nan=True)
    assert bool(x[1].isnan().all())  # the diverged model reads as failed, not as converged
