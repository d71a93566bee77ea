"""Mutation review mut39q of trainlab.init: contracts the existing init tests left open.

Expected values come from torch.nn.init with the same generator state (README: "Draws are
identical to torch.nn.init for the same generator") and from torch.nn.init.calculate_gain.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from trainlab import init


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_xavier_uniform_gain_is_applied_as_torch_does():
    """xavier_uniform with gain=2.5 equals torch's xavier_uniform_(gain=2.5): bound
    2.5*sqrt(6/(fan_in+fan_out))."""
    layer = nn.Linear(30, 20)
    init.apply(layer, "xavier_uniform", generator=_gen(7), gain=2.5)
    ref = torch.empty(20, 30)
    nn.init.xavier_uniform_(ref, gain=2.5, generator=_gen(7))
    assert torch.equal(layer.weight.detach(), ref)
    bound = 2.5 * math.sqrt(6.0 / (30 + 20))
    assert layer.weight.abs().max() <= bound
    assert layer.weight.abs().max() > 0.9 * bound  # (600 draws reach near the bound)


def test_he_identity_nonlinearity_is_gain_one_like_linear():
    """nonlinearity 'identity' is an alias of 'linear' (gain 1), not ReLU's sqrt(2)."""
    assert torch.nn.init.calculate_gain("linear") == 1.0
    for scheme, ref_fn in (
        ("he_normal", nn.init.kaiming_normal_),
        ("he_uniform", nn.init.kaiming_uniform_),
    ):
        layer = nn.Linear(40, 10)
        init.apply(layer, scheme, generator=_gen(1), nonlinearity="identity")
        ref = torch.empty(10, 40)
        ref_fn(ref, nonlinearity="linear", generator=_gen(1))
        assert torch.equal(layer.weight.detach(), ref), scheme


def test_draws_are_made_on_the_generators_device_whatever_the_layers():
    """A layer on another device (meta here) still consumes the generator's draws, so the
    next layer's weights are those torch draws in sequence ("a seed gives the same weights on
    every device")."""
    m = nn.Sequential(nn.Linear(5, 4, device="meta"), nn.Linear(4, 3))
    init.apply(m, "he_normal", generator=_gen(3))
    g = _gen(3)
    first = torch.empty(4, 5)
    nn.init.kaiming_normal_(first, generator=g)
    second = torch.empty(3, 4)
    nn.init.kaiming_normal_(second, generator=g)
    assert torch.equal(m[1].weight.detach(), second)


def test_population_members_draw_init_from_their_own_seed_key():
    """Each member's initial weights come from torch's CPU generator seeded with
    rng.seed_key("init", seed) (README, Known limitations); two seeds give different weights."""
    from trainlab import rng
    from trainlab.config import parse_config
    from trainlab.train import Trainer

    raw = {
        "model": {"name": "mlp", "hidden": [8]},
        "init": {"scheme": "xavier_uniform"},
        "train": {"epochs": 1},
        "population": {"seeds": [3, 11]},
    }
    t = Trainer(parse_config(raw), device="cpu")
    firsts = []
    for i, member in enumerate(t.members):
        state = t.pop.member_state(i)
        name = next(n for n, v in state.items() if n.endswith("weight") and v.dim() == 2)
        w = state[name]
        ref = torch.empty_like(w)
        nn.init.xavier_uniform_(ref, generator=_gen(rng.seed_key("init", member.seed)))
        assert torch.equal(w, ref), (member.seed, name)
        firsts.append(w)
    assert not torch.equal(firsts[0], firsts[1])
