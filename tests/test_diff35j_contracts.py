"""Review diff35j: ab2a7f7 (watch's inherited batch flag, Population seeds/load_member numpy)."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.population import Population


class _GatedBN(nn.Module):
    """A learned (6,) vector through a Linear (no batch axis: a gate/query), then the batched
    (B, C, H, W) stream through BatchNorm2d -> ReLU, gated by it."""

    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Parameter(torch.randn(6))
        self.proj = nn.Linear(6, 3)
        self.bn = nn.BatchNorm2d(3)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.proj(self.q)  # (3,): unbatched, and rightly so
        return self.act(self.bn(x)) * g[:, None, None]


# diagnostics/watch.py Watch._forward_hook (ab2a7f7): a layer whose rank tells nothing (BatchNorm,
# LayerNorm, GroupNorm) now takes the batch flag of the latest entry in sample.units, whatever
# branch it came from. Here a (6,) parameter goes through a Linear first (unbatched: True), so
# the BatchNorm2d fed the batched x (4, 3, 5, 5) is marked unbatched, and the ReLU after it is
# read as one sample (C=4, H, W): dead_fraction 0.0. The hand value is the fraction of the 3
# channels <= 0 on every sample and position: channel 0 has bias -10, so 1/3 (what the code gave
# before ab2a7f7, and what it gives if the Linear runs after the ReLU). Fix: inherit only from
# the layer that fed it (the latest entry whose output shape is x's shape), else None.
def test_unbatched_linear_branch_does_not_make_a_later_batchnorm_unbatched() -> None:
    torch.manual_seed(2)
    m = _GatedBN()
    with torch.no_grad():
        m.bn.bias.copy_(torch.tensor([-10.0, 0.0, 0.0]))
    torch.manual_seed(1)
    x = torch.randn(4, 3, 5, 5)
    with torch.no_grad():
        y = m.act(m.bn(x))
    hand = (y <= 0).transpose(0, 1).reshape(3, -1).all(1).float().mean().item()
    assert abs(hand - 1 / 3) < 1e-6
    with watch(m, every=1) as w:
        m(x).sum().backward()
        recs = w.records()
    (rec,) = [r for r in recs if r["layer"] == "act"]
    assert abs(rec["dead_fraction"] - hand) < 1e-6


# population.py Population.load_member (ab2a7f7): numpy values now go through
# np.ascontiguousarray, which returns an array of ndim >= 1, so a 0-d value becomes (1,). A
# model with BatchNorm has the 0-d buffer num_batches_tracked; its state as numpy
# ({n: t.numpy()}) then fails with "shape mismatch ... population has (), state has (1,)",
# while it loaded before the commit (torch.as_tensor(np.array(7)) is a 0-d tensor(7)). Fix:
# np.ascontiguousarray(t).reshape(t.shape) (or torch.tensor(t) / t.copy(order="C")).
def test_load_member_loads_a_0d_numpy_buffer() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), 2)
    src = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).state_dict()
    state = {n: t.detach().numpy().copy() for n, t in src.items()}
    state["1.num_batches_tracked"] = np.array(7)
    pop.load_member(1, state)
    got = pop.member_state(1)["1.num_batches_tracked"]
    assert got.shape == () and int(got) == 7
