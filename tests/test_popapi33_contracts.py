"""Review popapi33: the public Population API (copying a population, member indices)."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch import nn

from trainlab import Population
from trainlab.errors import UserError


class _KeepsFeatures(nn.Module):
    """A model that keeps its last hidden activation as an attribute (feature extraction)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 6)
        self.b = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.a(x))
        self.features = h.detach()
        return self.b(h)


# Wrong: after one forward of a vmap-mode population, the template keeps the tensor the forward
# stored as a plain attribute (`self.features = h`, or a forward hook's `m.out = o`), and under
# vmap that is a functorch BatchedTensor. copy.deepcopy(pop) and pickle.dumps(pop) (and so
# torch.save(pop)) then fail with "NotImplementedError: Cannot access storage of
# BatchedTensorImpl". unstack() already knows this (it copies such attributes as None); a
# population must be copyable as any nn.Module is, and the copy computes what the original does.
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_vmap_population_is_copyable_after_a_forward_that_keeps_a_tensor(how: str) -> None:
    torch.manual_seed(0)
    pop = Population(_KeepsFeatures(), 3)
    assert pop.mode == "vmap"
    x = torch.randn(3, 5, 4)
    y = pop(x)
    c = copy.deepcopy(pop) if how == "deepcopy" else pickle.loads(pickle.dumps(pop))
    torch.testing.assert_close(c(x), y, rtol=0, atol=0)


# Wrong: a 0-d *bool* tensor is taken as a model index (torch.tensor(True) -> model 1), while
# the Python bool True is refused; `_index` documents "a 0-d integer tensor (acc.argmax()) is an
# index too", and a bool (e.g. `pop.unstack(acc.argmax() == 2)`) is a mistake that silently
# selects model 1 (or model 0 for False). It must be refused as the Python bool is.
@pytest.mark.parametrize("index", [torch.tensor(True), torch.tensor(False)])
def test_bool_tensor_is_not_a_model_index(index: torch.Tensor) -> None:
    pop = Population(nn.Linear(2, 2), 3)
    with pytest.raises(UserError):
        pop.member_state(index)
    with pytest.raises(UserError):
        pop.unstack(index)
    with pytest.raises(UserError):
        pop.load_member(index, pop.member_state(0))
