"""Review compile32: trainlab.diagnostics.watch on modules unusual for hooks."""

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from trainlab.diagnostics import watch


def _dead(model: nn.Module, x: torch.Tensor) -> float:
    with watch(model) as w:
        model(x).sum().backward()
    return next(r["dead_fraction"] for r in w.records() if r["layer"] == "1")


# A weight-normed Linear (torch.nn.utils.parametrizations.weight_norm) called on an unbatched
# input (8,) must give its ReLU the same dead_fraction as the plain Linear: one sample, the 16
# features are the units, a unit is dead when it is <= 0 (by hand: (relu(lin(x)) <= 0).mean()).
# watch's _unbatched_rank keys on _kind(), the class name lower case, and parametrize renames the
# class to "ParametrizedLinear", so the unbatched input is not recognised: the (16,) output is
# read as 16 samples of one unit and dead_fraction reads 0.0 (here the truth is 0.3125).
# Fix: derive the unbatched rank (and kind) from the original class of a parametrized module
# (isinstance nn.Linear / _ConvNd, or type(m).__mro__[1] when parametrize.is_parametrized(m)).
def test_weight_norm_linear_unbatched_dead_fraction_matches_plain_linear():
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    torch.manual_seed(0)
    normed = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    weight_norm(normed[0])
    torch.manual_seed(1)
    x = torch.randn(8)
    with torch.no_grad():
        expected = (normed[1](normed[0](x)) <= 0).float().mean().item()
    assert expected > 0.2  # some units are dead on this sample
    assert abs(_dead(plain, x) - expected) < 1e-6  # the plain Linear is measured right
    assert abs(_dead(normed, x) - expected) < 1e-6


# The same for a weight-normed Conv2d on an unbatched (C, H, W) input: the channels are the
# units; channel 0, with bias -100, is <= 0 everywhere, so 1 of 4 channels is dead (0.25, what a
# plain Conv2d gives). "parametrizedconv2d" does not start with "conv", so the input's channel
# axis is taken for the batch and dead_fraction reads 0.0.
def test_weight_norm_conv_unbatched_dead_fraction_matches_plain_conv():
    def make(wn: bool) -> nn.Module:
        torch.manual_seed(0)
        m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(0), nn.Linear(64, 1))
        with torch.no_grad():
            m[0].bias.copy_(torch.tensor([-100.0, 0.0, 0.0, 0.0]))
        if wn:
            weight_norm(m[0])
        return m

    torch.manual_seed(1)
    x = torch.randn(3, 6, 6)
    normed = make(True)
    with torch.no_grad():
        y = normed[1](normed[0](x))
    expected = (y <= 0).flatten(1).all(1).float().mean().item()
    assert expected == 0.25
    assert _dead(make(False), x) == expected
    assert _dead(normed, x) == expected
