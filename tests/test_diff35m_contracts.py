"""Review diff35m: watch._units_before's count tier after 9f8b151 (a rank-mismatched 'last'
entry is passed over only when its count equals the activation's channel-axis size)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainlab.diagnostics import watch
from trainlab.population import Population


class _TembUNet12(nn.Module):
    """DDPM-style U-Net as in test_diff35k_contracts, but the up-convolution has 4 channels, so
    the decoder concat is (B, 4 + 8 = 12, 16, 16); the time-embedding Linear t2 has width 16
    (== the image width W)."""

    def __init__(self) -> None:
        super().__init__()
        self.t1 = nn.Linear(4, 8)
        self.e1 = nn.Conv2d(3, 8, 3, padding=1)
        self.r1 = nn.ReLU()
        self.t2 = nn.Linear(4, 16)
        self.e2 = nn.Conv2d(8, 16, 3, padding=1)
        self.r2 = nn.ReLU()
        self.up = nn.ConvTranspose2d(16, 4, 2, stride=2)
        self.rc = nn.ReLU()
        with torch.no_grad():
            self.up.bias[:] = -100.0  # the 4 upsampled channels are <= 0 everywhere

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.ones(x.shape[0], 4)
        h1 = self.r1(self.e1(x) + self.t1(t)[:, :, None, None])
        h2 = self.r2(self.e2(F.max_pool2d(h1, 2)) + self.t2(t)[:, :, None, None])
        return self.rc(torch.cat([self.up(h2), h1], 1))


# 9f8b151 reintroduces the bug 917a74a fixed (a U-Net concat after a time-embedding Linear of
# width W judged per image column) whenever the concat's channel count is not W: the decoder
# ReLU's (B, 12, 16, 16) matches no layer's shape; the ConvTranspose (4) and convs (8, 16) do
# not count 12; the Linear t2 (B, 16) has another rank but its count 16 != y.shape[1] = 12, so
# it is no longer passed over, and 16 == y.shape[-1] makes the units the W columns: 0.0 dead.
# By hand, per channel (axis 1 of conv features, as the docs say): the 4 upsampled channels
# are dead everywhere: 4/12 = 1/3 (the static guess, the ConvTranspose defined just before the
# ReLU, would also say channels). Fix: do not let a (B, D) 'last' entry of another rank decide
# by last-axis count when a channel-layout layer ran after it (or for rank >= 4 outputs).
def test_dead_fraction_after_unet_concat_not_equal_to_width_counts_channels() -> None:
    torch.manual_seed(0)
    m = _TembUNet12()
    seen: dict[str, torch.Tensor] = {}
    h = m.rc.register_forward_hook(lambda mod, a, o: seen.__setitem__("y", o.detach()))
    with watch(m, every=1) as w:
        m(torch.randn(4, 3, 16, 16)).sum().backward()
        recs = w.records()
    h.remove()
    y = seen["y"]
    hand = (y.amax(dim=(0, 2, 3)) <= 0).float().mean().item()
    assert hand == pytest.approx(1 / 3)
    (rec,) = [r for r in recs if r["layer"] == "rc"]
    assert rec["dead_fraction"] == pytest.approx(hand)


# The same in a stacked population (K axis in front): each model's decoder ReLU reads 0.0 dead
# instead of the hand value 1/3 (every model has the template's -100 up-conv bias).
def test_population_dead_fraction_after_unet_concat_counts_channels() -> None:
    torch.manual_seed(0)
    p = Population(_TembUNet12(), 2)
    with watch(p, every=1) as w:
        p(torch.randn(2, 4, 3, 16, 16)).sum().backward()
        recs = w.records()
    got = sorted((r["model"], r["dead_fraction"]) for r in recs if r["layer"] == "rc")
    assert got == [(0, pytest.approx(1 / 3)), (1, pytest.approx(1 / 3))]


class _ActFirst(nn.Module):
    """test_diff35l_contracts' FiLM shift of a (B, T, D) sequence by a (B, D) Linear broadcast
    with [:, None, :], ReLU defined before the Linear (static guess 'channel')."""

    def __init__(self) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.cond = nn.Linear(3, 6)
        with torch.no_grad():
            self.cond.bias[:2] = -100.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.cond(torch.ones(x.shape[0], 3))[:, None, :])


# dead_fraction depends on the sequence length: with T = 5 the Linear's count (6 == D) decides
# 'last' and the result is the hand value 1/3 (2 of 6 features dead on every token; asserted
# by test_diff35l_contracts); with T = D = 6 the new skip (count == y.shape[1]) passes the
# Linear over, the static guess 'channel' takes the T positions, and it reads 0.0. Same model,
# same dead features: expected 1/3 for both T. Fix: when a rank-mismatched 'last' entry's
# count equals both y.shape[lead] and y.shape[-1] and nothing else decides, use it (the docs'
# "the last whose unit count matches") rather than falling to the static guess.
@pytest.mark.parametrize("t", [5, 6])
def test_dead_fraction_of_broadcast_condition_does_not_depend_on_t_equal_d(t: int) -> None:
    torch.manual_seed(0)
    m = _ActFirst()
    x = torch.randn(4, t, 6)
    with watch(m, every=1) as w:
        m(x).sum().backward()
        recs = w.records()
    with torch.no_grad():
        y = m(x)
    hand = (y.amax(dim=(0, 1)) <= 0).float().mean().item()
    assert hand == pytest.approx(1 / 3)
    (rec,) = [r for r in recs if r["layer"] == "act"]
    assert rec["dead_fraction"] == pytest.approx(hand)
