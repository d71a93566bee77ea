"""Review of models, the population engine and initialization (2026-11-30): Flatten on the
batch axis, LSUV on a constant batch or integer data, a list where a name goes."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from trainlab import init, models
from trainlab.errors import UserError
from trainlab.population import Population


def _frames(t: int = 3) -> nn.Module:
    # frame-wise layers: (B, T, F) -> (B*T, F) -> Linear -> (B, T, H) -> flatten -> logits
    return nn.Sequential(
        nn.Flatten(0, 1), nn.Linear(5, 8), nn.ReLU(), nn.Unflatten(0, (-1, t)),
        nn.Flatten(), nn.Linear(8 * t, 4),
    )  # fmt: skip


def test_population_sequential_flattening_batch_axis_matches_plain_models():
    # Wrong: the stacked path folds K into the batch axis for every nn.Flatten/nn.Unflatten,
    # so a Sequential whose Flatten(0, 1)/Unflatten(0, ...) acts on the batch axis crashes
    # (RuntimeError: shape '[3, 6, 5]' is invalid). Right: such layers are not folded (the
    # vmap path runs them) and each model's output equals the plain model's.
    torch.manual_seed(0)
    ms = [_frames() for _ in range(3)]
    pop = Population.from_models([copy.deepcopy(m) for m in ms])
    x = torch.randn(3, 6, 3, 5)
    y = pop(x)
    for k, m in enumerate(ms):
        torch.testing.assert_close(y[k], m(x[k]))


def test_lsuv_uint8_batch_on_linear_model_is_a_user_error():
    # Wrong: lsuv's own check turns a data batch the model does not accept into a UserError
    # for conv models ("should be the same") but not for Linear ones: uint8 images into an MLP
    # raise torch's RuntimeError "mat1 and mat2 must have the same dtype". Right: one UserError.
    model = models.create("mlp", input_shape=(64,), num_classes=10, hidden=(16,))
    data = torch.randint(0, 256, (8, 64), dtype=torch.uint8)
    with pytest.raises(UserError):
        init.apply(model, "lsuv", data=data)


def test_lsuv_does_not_blow_up_weights_when_output_variance_ignores_them():
    # Wrong: on a constant (all-zero) batch a Linear's output is its bias, whose spread does
    # not depend on the weight; lsuv_ still divides the weight by sqrt(0.1) ten times (x1e5,
    # 0.48 -> 44821) and then advises "raise max_iter". Right: stop when rescaling does not
    # move the variance (warn), leaving the weight at most one rescaling away from where it was.
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    before = m[0].weight.abs().max().item()
    with pytest.warns(UserWarning, match="does not change with the weight's scale"):
        init.lsuv_(m, torch.zeros(16, 4))
    assert m[0].weight.abs().max().item() < 10 * before


@pytest.mark.parametrize("call", ["model", "init"])
def test_unhashable_name_is_a_user_error(call):
    # Wrong: Registry.get looks the name up in a dict, so a list name (a sweep's list passed
    # where one name goes) raises TypeError: unhashable type: 'list'. Right: a UserError.
    with pytest.raises(UserError):
        if call == "model":
            models.create(["mlp"], input_shape=(4,), num_classes=2)
        else:
            init.apply(nn.Linear(4, 2), ["he_normal"])
