"""Review read29i: population optimizers (optim/base.py and its neighbours) against torch.optim."""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import Adagrad, Adam, AdamW, RMSprop


# PopulationOptimizer.add_param_group (optim/base.py) checks only the *first* parameter's dtype
# ("optimizer parameters must be floating point, got torch.complex64"): a complex parameter
# first in the list is refused, but the same complex parameter second in the list is accepted
# and then stepped as if it were real. Adam/RMSprop/Adagrad then build the second moment from
# g·g (a complex square) instead of |g|², so the weights silently differ from torch.optim,
# which steps a complex parameter as its real view (torch.view_as_real). Correct behaviour:
# either refuse every non-floating parameter (as for the first one) or match torch.optim on
# each model's slice; a silent wrong update is neither.
@pytest.mark.parametrize("cls", [Adam, AdamW, RMSprop, Adagrad])
def test_complex_param_after_a_real_one_is_refused_or_matches_torch(cls):
    torch.manual_seed(0)
    k = 2
    real = torch.randn(k, 3, requires_grad=True)
    c0 = torch.randn(k, 3, dtype=torch.complex64)
    cplx = c0.clone().requires_grad_(True)
    grads = [torch.randn(k, 3, dtype=torch.complex64) for _ in range(3)]
    try:
        opt = cls([real, cplx], lr=0.1)
    except (ConfigError, TypeError, ValueError):
        return  # refused like a complex parameter given first: fine
    for g in grads:
        real.grad = torch.zeros_like(real)
        cplx.grad = g.clone()
        opt.step()
    for m in range(k):
        q = c0[m].clone().requires_grad_(True)
        ref = getattr(torch.optim, cls.__name__)([q], lr=0.1)
        for g in grads:
            q.grad = g[m].clone()
            ref.step()
        torch.testing.assert_close(cplx.detach()[m], q.detach(), rtol=1e-5, atol=1e-6)
