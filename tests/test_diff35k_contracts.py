"""Review diff35k: dead_fraction's unit axis as chosen by watch._units_before / _unbatched_rank,
checked against a hand computation on small realistic models."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.diagnostics import watch


class _TembUNet(nn.Module):
    """DDPM-style U-Net: each res block adds a time-embedding Linear's (B, C) output to its conv
    features; the decoder concatenates the upsampled features with the skip, then ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.t1 = nn.Linear(4, 8)
        self.e1 = nn.Conv2d(3, 8, 3, padding=1)
        self.r1 = nn.ReLU()
        self.t2 = nn.Linear(4, 16)
        self.e2 = nn.Conv2d(8, 16, 3, padding=1)
        self.r2 = nn.ReLU()
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.rc = nn.ReLU()
        with torch.no_grad():
            self.up.bias[:] = -100.0  # the 8 upsampled channels are <= 0 everywhere

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.ones(x.shape[0], 4)
        h1 = self.r1(self.e1(x) + self.t1(t)[:, :, None, None])  # (B, 8, 16, 16)
        h2 = self.r2(self.e2(F.max_pool2d(h1, 2)) + self.t2(t)[:, :, None, None])  # (B, 16, 8, 8)
        return self.rc(torch.cat([self.up(h2), h1], 1))  # (B, 16, 16, 16)


# watch._units_before, second tier ("the latest whose unit count is y's size on its unit
# axis"): the decoder ReLU's (B, 16, 16, 16) output matches no layer's shape (the concat has
# 16 channels, the ConvTranspose 8), so the latest entry with a matching count wins, and that
# is the time-embedding Linear t2, whose (B, 16) output has 16 "last" units, equal to the
# concat's width W = 16. The ReLU is then judged per image column: 0.0 dead, while by hand
# (per channel, axis 1 of the conv features, as the docs promise) the 8 upsampled channels
# (bias -100) are dead everywhere: 0.5. At 79714e5 (the last
# layer that ran, the ConvTranspose: channels) this was right. A (B, D) "last" layer's output
# broadcast into (B, D, H, W) says nothing about that tensor's last axis (the same reason the
# SE gate no longer decides); fix: in the count tier skip a "last" entry whose output rank
# differs from y's, so the ConvTranspose (or the static guess, channels) decides.
def test_dead_fraction_after_unet_concat_with_time_embedding_counts_channels() -> None:
    torch.manual_seed(0)
    m = _TembUNet()
    seen: dict[str, torch.Tensor] = {}
    h = m.rc.register_forward_hook(lambda mod, a, o: seen.__setitem__("y", o.detach()))
    with watch(m, every=1) as w:
        m(torch.randn(4, 3, 16, 16)).sum().backward()
        recs = w.records()
    h.remove()
    y = seen["y"]
    hand = (y.amax(dim=(0, 2, 3)) <= 0).float().mean().item()
    assert hand >= 0.5
    (rec,) = [r for r in recs if r["layer"] == "rc"]
    assert rec["dead_fraction"] == hand


# watch._unbatched_rank gives None for "convtranspose2d" (kind[4:5] is "t", not a digit), so
# a ConvTranspose2d given one unbatched (C, H, W) sample, which torch accepts like Conv2d,
# is taken as batched: its ReLU's (8, 8, 8) output is read as a batch of 8 with channels on
# axis 1 (H), and the 4 channels forced dead (bias -100) read 0.0 dead. By hand, one sample's
# channels are axis 0: 4 of 8 dead, 0.5. (Wrong at 79714e5 too: not a regression of today's
# diff.) Fix: _unbatched_rank returns n + 1 for "convtranspose{n}d" as for "conv{n}d".
def test_dead_fraction_of_an_unbatched_conv_transpose_counts_its_channels() -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.ReLU())
    with torch.no_grad():
        m[0].bias[:4] = -100.0
    x = torch.randn(16, 4, 4)  # one generator input, no batch axis
    with watch(m, every=1) as w:
        m(x).sum().backward()
        recs = w.records()
    y = m(x).detach()  # (8, 8, 8): (C, H, W)
    hand = (y.amax(dim=(1, 2)) <= 0).float().mean().item()
    assert hand == 0.5
    (rec,) = [r for r in recs if r["layer"] == "1"]
    assert rec["dead_fraction"] == hand
