"""Review (second20): second-order optimizers and the LR finder."""

from __future__ import annotations

import pytest
import torch

from trainlab.optim import create_optimizer


def _lbfgs(k: int, n: int):
    p = torch.ones(k, n, dtype=torch.float64, requires_grad=True)
    opt = create_optimizer("lbfgs", [p], max_iter=3)
    w = torch.arange(1, k + 1, dtype=torch.float64)

    def closure():
        opt.zero_grad()
        loss = ((p - 2) ** 2).sum(1) * w
        loss.sum().backward()
        return loss.detach()

    return p, opt, closure


@pytest.mark.parametrize("k, n", [(2, 3), (1, 3), (3, 4)])
def test_lbfgs_load_state_dict_refuses_state_of_another_population_shape(k, n):
    # LBFGS.load_state_dict takes a K=3, n=3 history into an optimizer over (k, n) parameters
    # without a word and the next step dies in torch internals ("size of tensor a (2) must
    # match...", "shape '[1, 3]' is invalid"); the base class promises that state of another
    # shape is refused before anything is loaded: it must raise a clear ValueError at load time.
    _, src, closure = _lbfgs(3, 3)
    src.step(closure)
    saved = src.state_dict()
    _, dst, _ = _lbfgs(k, n)
    with pytest.raises(ValueError, match=r"(?i)K=|shape|models|parameters"):
        dst.load_state_dict(saved)
    assert not dst.state  # nothing was loaded


def test_lbfgs_add_param_group_is_refused_not_silently_left_unoptimized():
    # LBFGS refuses several param groups at construction, but add_param_group accepts a second
    # group and step() then optimizes only group 0 (it reads self._params): q silently never
    # moves. A second group must be refused the same way (ConfigError) when it is added.
    from trainlab.optim.second_order import LBFGS

    p = torch.ones(2, 3, requires_grad=True)
    q = torch.ones(2, 2, requires_grad=True)
    opt = LBFGS([p])
    with pytest.raises(ValueError, match="one parameter group"):
        opt.add_param_group({"params": [q]})
