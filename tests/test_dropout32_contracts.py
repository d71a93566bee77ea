"""Review dropout32: dropout in populations."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from trainlab.errors import UserError
from trainlab.population import Population


class _Ckpt(nn.Module):
    """Linear -> checkpoint(Linear -> tanh -> Dropout) -> Linear."""

    def __init__(self, ck: bool, p: float) -> None:
        super().__init__()
        self.f = nn.Linear(4, 8)
        self.l = nn.Linear(8, 8)
        self.d = nn.Dropout(p)
        self.o = nn.Linear(8, 3)
        self.ck = ck

    def block(self, h: torch.Tensor) -> torch.Tensor:
        return self.d(torch.tanh(self.l(h)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.f(x)
        h = checkpoint(self.block, h, use_reentrant=True) if self.ck else self.block(h)
        return self.o(h)


# What is wrong: README ("torch.utils.checkpoint inside the forward needs use_reentrant=True
# (its models then run one after another)") and the trainer's error for the non-reentrant form
# both send users to checkpoint(..., use_reentrant=True). In the loop mode that form runs, the
# reentrant checkpoint recomputes the block in the backward, outside functional_call's
# reparametrization: the recompute reads the *template's* own tensors, so the checkpointed
# Linear's stacked weights get no gradient at all (grad None: they never train; the gradient
# lands on the hidden template), and the recomputed dropout draws with the template's seed 0
# instead of each model's seed, so the gradient reaching the layer before it is computed with
# another mask than the forward used (off by O(1)). A single plain torch model with the same
# checkpoint gets every gradient. Expected: the population's gradients equal those of the same
# population without checkpointing (checkpointing changes memory, not numbers), or the
# population refuses the model with a UserError rather than silently not training it.
@pytest.mark.parametrize("p", [0.0, 0.5])
def test_reentrant_checkpoint_block_gets_each_models_gradients_and_masks(p: float) -> None:
    torch.manual_seed(0)
    m = _Ckpt(True, p)
    ref = copy.deepcopy(m)
    ref.ck = False
    x = torch.randn(2, 5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = Population(ref, 2, [3, 7])
        want.train()
        want.set_step(4)
        want(x).square().sum().backward()
        try:
            pop = Population(m, 2, [3, 7])
            pop.train()
            pop.set_step(4)
            pop(x).square().sum().backward()
        except UserError:
            return  # refusing the model is an acceptable fix
    for (n, a), (_, b) in zip(pop.named_parameters(), want.named_parameters(), strict=True):
        assert a.grad is not None, f"{n} got no gradient (it would never train)"
        torch.testing.assert_close(a.grad, b.grad, msg=f"gradient of {n}")
