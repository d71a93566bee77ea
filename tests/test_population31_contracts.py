"""Review of the public Population API (population31)."""

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population


class _ActNet(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.act = act  # a callable setting, as custom models often keep their activation

    def forward(self, x):
        return self.act(self.lin(x))


class _ScaledNet(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.scale = torch.tensor(scale)  # a tensor setting (not a buffer)

    def forward(self, x):
        return self.lin(x) * self.scale


# from_models promises that "models that differ in anything else (a layer's type or settings)
# are refused", but _architecture/_settings compare only plain attributes (numbers, strings):
# two models whose activation is a callable attribute (torch.relu vs torch.tanh) are accepted,
# and model 1 then silently runs with model 0's activation (the template is models[0]). Correct:
# refuse them (UserError), or give model 1 its own output, as the plain model computes it.
def test_from_models_callable_attribute_not_silently_replaced():
    torch.manual_seed(0)
    models = [_ActNet(torch.relu), _ActNet(torch.tanh)]
    try:
        pop = Population.from_models(models)
    except UserError:
        return
    x = torch.randn(2, 4, 3)
    with torch.no_grad():
        torch.testing.assert_close(pop(x)[1], models[1](x[1]))


# Same root cause with a tensor kept as a plain attribute: model 1 (scale 3) is computed with
# model 0's scale 1 without a word.
def test_from_models_tensor_attribute_not_silently_replaced():
    torch.manual_seed(0)
    models = [_ScaledNet(1.0), _ScaledNet(3.0)]
    try:
        pop = Population.from_models(models)
    except UserError:
        return
    x = torch.randn(2, 4, 2)
    with torch.no_grad():
        torch.testing.assert_close(pop(x)[1], models[1](x[1]))


# from_models zips the two _architecture lists position by position; that list holds the
# modules, then the parameters' frozen/trained flags, dtypes and ties. When model 0 has a layer
# model 1 lacks, the first mismatch pairs model 0's ReLU entry with model 1's "0.weight trained"
# entry, and the message names '0.weight' (present and equal in both) as the difference:
# "model 1 differs from model 0 at '0.weight' (trained vs ReLU())". The difference is layer '1'.
def test_from_models_missing_layer_message_names_the_layer():
    models = [nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Sequential(nn.Linear(3, 4))]
    with pytest.raises(UserError) as info:
        Population.from_models(models)
    msg = str(info.value)
    assert "at '1'" in msg, msg
    assert "0.weight" not in msg, msg


# The reverse: model 1 has an extra layer '1'; the message says model 0 has "trained" there
# ("at '1' (ReLU() vs trained)"), a parameter flag of another entry; model 0 has nothing at '1'.
def test_from_models_extra_layer_message_says_nothing_for_model0():
    models = [nn.Sequential(nn.Linear(3, 4)), nn.Sequential(nn.Linear(3, 4), nn.ReLU())]
    with pytest.raises(UserError) as info:
        Population.from_models(models)
    msg = str(info.value)
    assert "trained" not in msg, msg
    assert "nothing" in msg, msg


class _NonPersistent(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("b", torch.ones(n), persistent=False)

    def forward(self, x):
        return self.lin(x) * self.b.sum()


# Models whose non-persistent buffer has another shape (architectures differ) are refused by
# from_models with torch's raw copy_ error ("RuntimeError: The size of tensor a (3) must match
# the size of tensor b (4)"), naming neither the model nor the buffer; a persistent buffer or
# parameter of another shape gets a UserError ("shape mismatch for 'w'"). Expected: UserError.
def test_from_models_nonpersistent_buffer_shape_mismatch_is_user_error():
    with pytest.raises(UserError):
        Population.from_models([_NonPersistent(3), _NonPersistent(4)])
