"""Review (watchapi20): ``trainlab.diagnostics.watch`` attached to a practitioner's own module
and loop. Each test fails on the code it was written against."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from trainlab.diagnostics import verdict, watch
from trainlab.errors import UserError


def _half_dead_mlp() -> nn.Sequential:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        m[0].bias[:4] = -100.0  # units 0..3 are 0 for every input: half the layer is dead
    return m


@pytest.mark.parametrize("every", [1, 10])
def test_dead_fraction_of_an_unbatched_input_counts_the_features_as_units(every):
    # an unbatched (D,) Linear output is treated as D samples of one unit: 0.0 dead (and a
    # dead_relu "ok") for a half-dead layer, while the same state as x[None] reads 0.625;
    # right: after a Linear the units are the last axis, so the (8,) output has 8 units
    m = _half_dead_mlp()
    x = torch.randn(4)  # one RL state / one sample, as nn.Linear accepts it
    with watch(m, every=every) as w:
        m(x).sum().backward()
    expected = (m[1](m[0](x)) <= 0).float().mean().item()  # 5 of 8 units at 0
    (rec,) = [r for r in w.records() if r["layer"] == "1"]
    assert rec["dead_fraction"] == pytest.approx(expected)
    (dead,) = [f for f in verdict(w.records()) if f.check == "dead_relu"]
    assert dead.status == "warn", dead.message


def test_an_infinite_hist_range_is_a_user_error():
    # watch(m, hist_range=(0, inf)) is accepted (a NaN range is refused) and every record gets
    # NaN bin edges (null in the JSONL) and a meaningless histogram; right: a UserError
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    with pytest.raises(UserError):
        watch(m, hist_range=(0.0, math.inf))


@pytest.mark.parametrize("layers", [[0, 2], 0])
def test_integer_layer_names_select_the_layer_or_give_a_clear_user_error(layers):
    # layers=[0, 2] on an nn.Sequential says "no layer named '0' (did you mean '0'?)" and
    # layers=0 raises TypeError "'int' object is not iterable"; right: select the layers
    # named str(i), or a UserError that says names are strings (not one proposing the same name)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    try:
        w = watch(m, layers=layers)
    except UserError as e:
        assert "did you mean '0'" not in str(e), str(e)
    else:
        assert set(w.layers) == ({"0", "2"} if isinstance(layers, list) else {"0"})


class _AutoEncoder(nn.Module):
    """Parts called one by one by the loop; the root has no forward of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(8, 3), nn.ReLU())
        self.dec = nn.Linear(3, 8)


@pytest.mark.parametrize("every", [1, 10])
def test_training_the_parts_of_a_watched_model_without_its_forward_does_not_pass_silently(every):
    # watch(model) whose loop calls model.enc / model.dec (or a ModuleDict) trains 3 steps,
    # records nothing and warns nothing (an eval-only block does warn); right: the records or
    # a UserWarning saying nothing was recorded because the watched module itself never ran
    torch.manual_seed(0)
    m = _AutoEncoder()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x = torch.randn(16, 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with watch(m, every=every) as w:
            for _ in range(3):
                opt.zero_grad()
                (m.dec(m.enc(x)) - x).pow(2).mean().backward()
                opt.step()
    told = [c for c in caught if issubclass(c.category, UserWarning)]
    assert w.records() or told
