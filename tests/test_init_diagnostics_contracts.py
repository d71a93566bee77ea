"""trainlab.init (fans and gains against torch.nn.init, LSUV on dead layers) and the diagnostics
verdicts (per model, boundaries, NaN origin), plus 16-bit norms that do not depend on K."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab import init
from trainlab.diagnostics import stats
from trainlab.diagnostics.verdict import verdict


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "layer",
    [
        nn.ConvTranspose2d(6, 4, 3, groups=2),
        nn.Conv3d(4, 6, (2, 3, 1), groups=2),
        nn.Conv1d(3, 5, 4, bias=False),
    ],
)
def test_he_uniform_leaky_fan_out_identical_to_torch_on_grouped_and_transposed(layer) -> None:
    opts = {"mode": "fan_out", "nonlinearity": "leaky_relu", "negative_slope": 0.2}
    init.apply(layer, "he_uniform", generator=_gen(), **opts)
    ref = torch.empty_like(layer.weight)
    torch.nn.init.kaiming_uniform_(
        ref, a=0.2, mode="fan_out", nonlinearity="leaky_relu", generator=_gen()
    )
    assert torch.equal(layer.weight, ref)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(layer.weight)
    assert init.fans(layer) == (fan_in, fan_out)
    expected = torch.nn.init.calculate_gain("leaky_relu", 0.2) / fan_out**0.5
    assert init.expected_std("he_uniform", layer, **opts) == pytest.approx(expected)


def test_lsuv_warns_for_a_dead_layer_and_leaves_it() -> None:
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        init.apply(m, "lsuv", data=torch.zeros(4, 4), generator=_gen())
    assert sum("output variance is 0" in str(w.message) for w in rec) == 2
    assert torch.isfinite(m[0].weight).all() and torch.isfinite(m[2].weight).all()


def _row(**kw):
    return {"model": 0, "step": 10, "order": 0, "weight_norm": 1.0} | kw


def test_verdict_does_not_mix_models_of_a_population_and_boundary_is_ok() -> None:
    recs = [
        _row(model=0, layer="a", order=0, out_grad_norm=1.0),
        _row(model=1, layer="b", order=1, out_grad_norm=1e-5),
        _row(model=2, layer="a", order=0, out_grad_norm=1e-2),
        _row(model=2, layer="b", order=1, out_grad_norm=1.0),
    ]
    fs = verdict(recs)
    assert [(f.model, f.check, f.status) for f in fs] == [(2, "gradients", "ok")]


def test_nonfinite_origin_is_the_first_layer_in_forward_order() -> None:
    recs = [
        _row(layer="c", order=2, nonfinite=True, step=3),
        _row(layer="b", order=1, nonfinite=True, step=3),
        _row(layer="a", order=0, nonfinite=True, step=4),
        _row(layer="a", order=0, nonfinite=False, step=3),
    ]
    (f,) = verdict(recs)
    assert (f.status, f.step, f.layer) == ("fail", 3, "b")


def test_norms_of_a_bfloat16_tensor_do_not_depend_on_population_size() -> None:
    """A model's weight/grad norm must not change with K (DESIGN principle 2): 16-bit tensors
    are summed in float32 for one model as for many."""
    t = torch.full((1, 3000), 1000.0, dtype=torch.bfloat16)
    (alone,) = stats.norms([t[0]], 1)
    (pop,) = stats.norms([t.expand(2, 3000).contiguous()], 2)
    assert alone.dtype == pop.dtype == torch.float32
    assert torch.allclose(alone, pop[:1], rtol=1e-5), (alone, pop)
