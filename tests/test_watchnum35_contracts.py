"""Review watchnum35: the numbers trainlab.diagnostics.watch records, recomputed by hand on plain
torch models."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import watch


class _SqueezeExcite(nn.Module):
    """conv -> squeeze-excitation (pool, Linear, ReLU, Linear, Sigmoid) -> scale -> ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc1 = nn.Linear(8, 4)
        self.r1 = nn.ReLU()
        self.fc2 = nn.Linear(4, 8)
        self.gate = nn.Sigmoid()
        self.relu = nn.ReLU()
        with torch.no_grad():
            self.conv.bias[:4] = -100.0  # channels 0-3 are <= 0 at every sample and pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)  # (B, C, H, W)
        s = self.gate(self.fc2(self.r1(self.fc1(h.mean((2, 3))))))  # (B, C)
        return self.relu(h * s[:, :, None, None])


# dead_fraction of an activation takes its unit axis from "the last watched layer that ran
# before it" (watch.py _forward_hook: sample.units, set by every layer with a known layout).
# In a squeeze-excitation block (SE-ResNet, MobileNetV3, EfficientNet) the last such layer
# before the block's ReLU is the gate's nn.Linear, whose (B, D) output says "last axis", so the
# ReLU's (B, C, H, W) output is judged per *column W* instead of per channel: 4 of its 8
# channels are exactly 0 everywhere (bias -100, SE scale > 0), i.e. dead_fraction must be 0.5
# (by hand: (y.amax((0, 2, 3)) <= 0).mean()), but the watch records 0.0 and the verdict's
# dead_relu check says ok. Nothing permutes axes here (the one caveat the docs give). The
# layout of a layer whose output has another rank than the activation's output cannot
# describe the activation's axes; fix: remember the rank of the output that set
# sample.units and fall back to the static guess / "channel" when the ranks differ.
def test_dead_fraction_after_squeeze_excitation_counts_channels() -> None:
    torch.manual_seed(0)
    m = _SqueezeExcite()
    seen: dict[str, torch.Tensor] = {}
    h = m.relu.register_forward_hook(lambda mod, a, o: seen.__setitem__("y", o.detach()))
    with watch(m, every=1) as w:
        m(torch.randn(4, 3, 5, 5)).sum().backward()
        recs = w.records()
    h.remove()
    y = seen["y"]
    hand = (y.amax(dim=(0, 2, 3)) <= 0).float().mean().item()
    assert hand == 0.5
    (rec,) = [r for r in recs if r["layer"] == "relu"]
    assert rec["dead_fraction"] == hand
