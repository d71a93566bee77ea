"""Review popopt31: population optimizers (trainlab.optim)."""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import SGD, Adagrad, Adam, RMSprop


# The README ("Used by hand ... a per-model value may also be a list or numpy array of K
# numbers") and the AREA of mid-run lr changes through param_groups: a per-model lr set on a
# group after construction as a Python list (or numpy array) crashes deep inside the step with a
# bare TypeError ("float() argument must be ... not 'list'", "bad operand type for unary -:
# 'list'", "only 0-dimensional arrays ..."), from whichever path the step takes. _values only
# normalises/checks tensors (_check_shapes), so a list slips through to bcast/equal_runs. The
# right behaviour is either to take it as the (K,) tensor it stands for (then the step equals
# the step with the same values as a tensor) or to refuse it with a ConfigError that says what
# to set, as _check_shapes does for a wrong-shaped tensor.
@pytest.mark.parametrize(
    "cls,kw",
    [
        (SGD, {"fused": None}),
        (SGD, {"fused": False}),
        (Adam, {"fused": None}),
        (Adam, {"fused": False}),
        (Adagrad, {"fused": False}),
        (RMSprop, {}),
    ],
)
@pytest.mark.parametrize("as_numpy", [False, True])
def test_per_model_lr_list_set_on_group_mid_run(cls, kw, as_numpy):
    lrs = [0.1, 0.2, 0.3]
    value = __import__("numpy").array(lrs) if as_numpy else list(lrs)
    torch.manual_seed(0)
    init = torch.randn(3, 4, dtype=torch.float64)
    grads = torch.randn(2, 3, 4, dtype=torch.float64)

    def run(lr_value):
        p = init.clone().requires_grad_()
        opt = cls([p], lr=0.05, **kw)
        p.grad = grads[0].clone()
        opt.step()
        opt.param_groups[0]["lr"] = lr_value
        p.grad = grads[1].clone()
        opt.step()
        return p.detach()

    expected = run(torch.tensor(lrs, dtype=torch.float64))
    try:
        got = run(value)
    except ConfigError:
        return  # a clear refusal is acceptable
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=0)
