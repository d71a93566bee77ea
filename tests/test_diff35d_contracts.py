"""Review diff35d: dead_fraction's unit axis after 6fc2b85 (units from the latest earlier layer
whose output has the activation's shape, else the latest *batched* one whose unit count
matches), recomputed by hand and against the same sample given with its batch axis."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import watch


def _dead(m: nn.Module, x: torch.Tensor) -> float:
    """The watch's dead_fraction of ``m.relu`` for one training step on ``x``."""
    with watch(m, every=1) as w:
        m(x).sum().backward()
        recs = w.records()
    (rec,) = [r for r in recs if r["layer"] == "relu"]
    return rec["dead_fraction"]


class _ConvPoolReLU(nn.Module):
    """conv -> max-pool -> ReLU (the LeNet / pytorch-examples MNIST order)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        with torch.no_grad():
            self.conv.bias[:2] = -100.0  # channels 0-1 are <= 0 at every pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.pool(self.conv(x)))


# watch.py _units_before: the unbatched flag now passes to an activation only through an exact
# shape match; the count rule skips unbatched layers and the fallback returns unbatched=False.
# An unbatched conv input (C, H, W) (torch takes it as one sample) followed by a pool changes
# the shape, so the ReLU's (8, 3, 3) output is read as a batch of 8 samples with 3 "channels"
# on axis 1 (the H axis): dead_fraction 0.0. By hand the sample has 8 channels, 2 of them
# <= 0 everywhere: 0.25, which is also what the watch records for the same sample given as
# (1, C, H, W), and what it recorded before 4dc40f7 (79714e5: 0.25). Fix: let the count rule
# consider unbatched layers too (their unit axis without the batch axis: count = y.shape[stacked]
# for "channel") and return their unbatched flag, or fall back to the latest entry's flag.
def test_unbatched_conv_then_pool_relu_counts_channels() -> None:
    torch.manual_seed(0)
    m = _ConvPoolReLU()
    x = torch.randn(3, 6, 6)
    with torch.no_grad():
        y = m(x)  # (8, 3, 3): one sample
    hand = (y.amax(dim=(1, 2)) <= 0).float().mean().item()
    assert hand == 0.25
    assert _dead(m, x[None]) == hand  # the same sample, batched: right already
    assert _dead(m, x) == hand


class _ConvFlattenReLU(nn.Module):
    """conv -> flatten() -> ReLU on one unbatched sample (C, H, W)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        with torch.no_grad():
            self.conv.bias[:2] = -100.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        return self.relu(h.flatten(1) if h.dim() == 4 else h.flatten())


# Same cause: the ReLU's (200,) output of one unbatched sample matches no earlier shape and the
# count rule skips the unbatched conv, so unbatched=False and the (K, 200) copy is read as 200
# samples of ONE unit (stats.unit_peaks of a (K, B) tensor): dead only if all 200 values are
# <= 0, so 0.0. The one sample has 200 features; the watch gives the batched (1, 200) version
# per-feature units (the fraction of features <= 0), and so did 79714e5 for the unbatched one.
def test_unbatched_conv_then_flatten_relu_is_one_sample() -> None:
    torch.manual_seed(0)
    m = _ConvFlattenReLU()
    x = torch.randn(3, 5, 5)
    with torch.no_grad():
        y = m(x)  # (200,)
    hand = (y <= 0).float().mean().item()  # one sample: a feature is dead iff it is <= 0
    assert 0.3 < hand < 1.0
    assert abs(_dead(m, x[None]) - hand) < 1e-6  # batched: per feature, already right
    assert abs(_dead(m, x) - hand) < 1e-6
