"""Review fuzz36: dead_fraction's unit axis (trainlab.diagnostics.watch: _viewed_units /
_units_before), found by a fuzzer of layer -> view ops -> ReLU models."""

import torch
from torch import nn

from trainlab.diagnostics.watch import watch
from trainlab.population import Population


class _ViewThenReLU(nn.Module):
    def __init__(self, layer: nn.Module, view) -> None:
        super().__init__()
        self.layer, self.view, self.act = layer, view, nn.ReLU()

    def forward(self, x):
        return self.act(self.view(self.layer(x)))


def _model(layer: nn.Module, view) -> nn.Module:
    # unit 1 dead (bias -100, tiny weights), every other unit alive on every sample/position
    with torch.no_grad():
        layer.weight.mul_(1e-3)
        layer.bias.fill_(1.0)
        layer.bias[1] = -100.0
    return _ViewThenReLU(layer, view)


def _dead(model: nn.Module, x: torch.Tensor) -> list[float]:
    with watch(model, every=1) as w:
        model(x).sum().backward()
    return [r["dead_fraction"] for r in w.records() if r["kind"] == "relu"]


# A Linear on (B, T, D) whose output is transposed to (B, D, T) (tokens -> channels, as before a
# Conv1d / token mixing) is followed correctly in a plain module (1/3), but in a vmap Population
# the sampled batch is re-run without autograd: there F.linear's 3-D output is itself a view of
# a (B*T, D) matmul result, the transpose's _base is that root tensor, and nothing keeps the
# Linear's output alive (record_grad=False), so the weakref in its _unit_entry is dead and
# _viewed_units gives up; the shape rules then take the T axis as units -> 0.0 for every model.
# Each model alone measures 1/3 (one of its 3 features is <= 0 everywhere), so the population
# must too. (The same happens in a plain module whose Linear is frozen: requires_grad_(False).)
def test_vmap_population_follows_linear_features_transposed_to_axis_1():
    torch.manual_seed(0)
    x = torch.randn(3, 6, 2)
    plain = _model(nn.Linear(2, 3), lambda y: y.transpose(1, 2))
    assert _dead(plain, x) == [1 / 3]
    pop = Population(_model(nn.Linear(2, 3), lambda y: y.transpose(1, 2)), k=2)
    assert pop.mode == "vmap"
    assert _dead(pop, x.expand(2, *x.shape)) == [1 / 3, 1 / 3]


# Same cause in a plain module: a frozen Linear (its output needs no grad, so the watch keeps no
# reference to it) on (B, T, D), transposed to (B, D, T): the units are its 3 features, 1 dead.
def test_frozen_linear_features_transposed_to_axis_1():
    torch.manual_seed(0)
    m = _model(nn.Linear(2, 3), lambda y: y.transpose(1, 2))
    m.layer.requires_grad_(False)
    model = nn.Sequential(m, nn.Linear(6, 1))  # a trainable head after the ReLU: (B, D, T) -> 1
    assert _dead(model, torch.randn(3, 6, 2)) == [1 / 3]


# An unsqueeze that puts a size-1 axis beside the units (a Conv1d's (B, C, L) made a one-channel
# image (B, 1, C, L); a Linear's (B, T, D) given a trailing axis (B, T, D, 1)) leaves the units
# on an axis that is neither axis 1 nor the last: _viewed_units finds the right axis but only
# accepts "channel"/"last" positions, then the shape rules take the size-1 axis as the only
# unit -> 0.0. The units are still the layer's 3 channels/features, one of them dead: 1/3.
# (Fix: ignore size-1 axes when deciding the position, or let the unit axis be any index and
# reduce over all the others; the latter also covers (B, H, C, W) from transpose(1, 2).)
def test_unsqueeze_beside_the_unit_axis():
    torch.manual_seed(0)
    conv = _model(nn.Conv1d(2, 3, 1), lambda y: y.unsqueeze(1))
    assert _dead(conv, torch.randn(2, 2, 5)) == [1 / 3]
    lin = _model(nn.Linear(2, 3), lambda y: y.unsqueeze(-1))
    assert _dead(lin, torch.randn(2, 6, 2)) == [1 / 3]
