"""Review lbfgs31: trainlab.optim's second-order methods (population L-BFGS, exact Newton)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer
from trainlab.optim.second_order import Newton

F64 = torch.float64


# Newton's docstring: "A model whose H + λI is singular (λ = 0 and a direction the loss
# ignores, such as a constant input feature) gets NaN parameters: it fails alone". With a
# constant input feature next to a bias (the usual logistic regression), the loss ignores the
# direction (w_c, b) ∝ (1, −1), so H is singular (its smallest eigenvalue is ~4e-17 relative to
# 0.5 here), but `torch.linalg.solve_ex` only reports an exactly zero pivot: for about a third
# of the models rounding leaves a ~1e-17 pivot, info == 0, and the model gets finite parameters
# moved by O(1) (up to ~3 here) along the ignored direction, the others NaN. Which happens
# depends on rounding (so on the device). Expected, as documented: every such model is NaN
# (e.g. treat a pivot/eigenvalue below n·eps·max as singular).
def test_newton_constant_feature_with_bias_is_singular_for_every_model_as_documented():
    g = torch.Generator().manual_seed(0)
    k = 8
    x = torch.randn(k, 40, 3, generator=g, dtype=F64)
    x[:, :, 0] = 1.0  # a constant input feature, next to the bias
    y = (torch.rand(k, 40, generator=g, dtype=F64) < 0.5).to(F64)
    w = (0.3 * torch.randn(k, 3, generator=g, dtype=F64)).requires_grad_()
    b = (0.3 * torch.randn(k, generator=g, dtype=F64)).requires_grad_()

    def closure():
        z = (x * w.unsqueeze(-2)).sum(-1) + b.unsqueeze(-1)
        return F.binary_cross_entropy_with_logits(z, y, reduction="none").mean(-1)

    Newton([w, b]).step(closure)
    assert torch.isnan(b.detach()).all(), b.detach()
    assert torch.isnan(w.detach()).all()


# The population optimizers support 16-bit parameters (base.compute_dtype: float32 math for
# bfloat16/float16; L-BFGS steps them fine), but Newton hands the 16-bit Hessian to
# torch.linalg.solve_ex and crashes with torch's NotImplementedError "lu_cpu not implemented
# for 'BFloat16'". Expected: the step is solved in float32 and rounded to the parameters'
# dtype; on ½‖x − 2‖² from x = 1 one Newton step lands on 2 exactly (representable in bf16).
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_newton_steps_16bit_parameters(dtype):
    x = torch.ones(2, 3, dtype=dtype, requires_grad=True)
    Newton([x]).step(lambda: 0.5 * ((x - 2) ** 2).sum(1))
    assert x.dtype == dtype
    assert torch.equal(x.detach(), torch.full((2, 3), 2.0, dtype=dtype))


# create_optimizer's docstring: "Each hyperparameter may be a number or a (K,) tensor of
# per-model values. Unknown hyperparameters raise a ConfigError". For 'lbfgs' only lr may be
# per-model; a per-model tolerance_grad (natural: each model has its own stopping tests)
# crashes in __init__ with a bare ValueError "only one element tensors can be converted to
# Python scalars" (a list: TypeError from float()). Expected: either it works per model, or a
# ConfigError that names the option and says it takes one value for all models.
@pytest.mark.parametrize(
    "kw",
    [
        {"tolerance_grad": torch.tensor([1e-3, 1e-5, 1e-7], dtype=F64)},
        {"tolerance_change": [1e-6, 1e-9, 1e-12]},
    ],
)
def test_lbfgs_per_model_tolerance_is_supported_or_refused_clearly(kw):
    w = torch.zeros(3, 2, dtype=F64, requires_grad=True)
    try:
        create_optimizer("lbfgs", [w], **kw)
    except ConfigError as e:
        assert next(iter(kw)) in str(e)
    except Exception as e:  # noqa: BLE001 - the defect: a bare TypeError/ValueError
        pytest.fail(f"{type(e).__name__}: {e}")
