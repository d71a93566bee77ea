"""Review diff36e: watch's view pass (8882432) and help into a full stdout (5d6a9a8)."""

import torch
from torch import nn

from trainlab.diagnostics import watch


def _dead(model: nn.Module, x: torch.Tensor, layer: str) -> float:
    with watch(model, every=1) as w:
        model(x).sum().backward()
    return next(r for r in w.records() if r["layer"] == layer)["dead_fraction"]


def _dead_bias(conv: nn.Module, n: int) -> None:
    """Small weights, bias 1, except the first ``n`` outputs' bias -100 (dead everywhere)."""
    with torch.no_grad():
        conv.weight.mul_(0.01)
        conv.bias.fill_(1.0)
        conv.bias[:n] = -100.0


# watch.py _units_before, view pass: a convolution's channels are read on y's last axis when
# y's per-sample shape is a permutation of the conv's ("transposed") and count == y's last
# size. A 2-D pixel shuffle Conv2d(3, C*r^2) -> PixelShuffle(r) of an H x W input with H == C
# and W == r*C gives (B, C*r^2, H, W) -> (B, C, r*H, r*W) = (B, C, r*C, r^2*C): a permutation
# of the conv's shape whose last size is C*r^2, so its r^2*C columns become the units (8882432
# meant to fix exactly this coincidence for square inputs). Here C=4, r=2, a 4x8 input: by hand
# (and on a 5x8 input) output channel 0 (conv channels 0..3, bias -100) is dead on every
# sample and pixel: 1 of 4 channels, 0.25; the watch reads 0.0 on 4x8. Same shapes as a
# permute(0, 2, 3, 1), so shapes cannot tell them apart: tell a transpose by the activation's
# input being a strided view of the conv output's storage (pixel_shuffle makes a new tensor).
def test_pixel_shuffle_dead_channel_on_a_4x8_input() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.PixelShuffle(2), nn.ReLU())
    _dead_bias(model[0], 4)
    x = torch.randn(3, 3, 4, 8)
    y = model(x)
    assert tuple(y.shape) == (3, 4, 8, 16)
    assert (y.amax(dim=(0, 2, 3)) <= 0).float().mean().item() == 0.25  # by hand
    assert _dead(model, torch.randn(3, 3, 5, 8), layer="2") == 0.25  # no coincidence
    assert _dead(model, x, layer="2") == 0.25


class _SubPixel1d(nn.Module):
    """1-D sub-pixel upsampling (audio super-resolution): Conv1d(2, C*r) -> (B, C, L*r)."""

    def __init__(self, c: int, r: int) -> None:
        super().__init__()
        self.c, self.r = c, r
        self.conv = nn.Conv1d(2, c * r, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        b, _, n = y.shape
        y = y.view(b, self.c, self.r, n).permute(0, 1, 3, 2).reshape(b, self.c, n * self.r)
        return self.act(y)


# Same rule, 1-D (3e83ec6's own case "a 1-D sub-pixel shuffle read positions"): with the
# length L equal to the channel count C, (B, C*r, L) -> (B, C, L*r) = (B, C, C*r) is a
# permutation of the conv's shape with last size C*r, so the C*r positions become the units
# again. C=4, r=2, L=4: output channel 0 (conv channels 0 and 1, bias -100) is dead on every
# sample and position: 1 of 4, 0.25 (also the watch's value for L=5); the watch reads 0.0.
def test_subpixel_1d_dead_channel_when_length_equals_channels() -> None:
    torch.manual_seed(0)
    model = _SubPixel1d(c=4, r=2)
    _dead_bias(model.conv, 2)
    x = torch.randn(3, 2, 4)
    y = model(x)
    assert (y.amax(dim=(0, 2)) <= 0).float().mean().item() == 0.25  # by hand
    assert _dead(model, torch.randn(3, 2, 5), layer="act") == 0.25
    assert _dead(model, x, layer="act") == 0.25


class _ChannelsLast(nn.Module):
    """Conv2d -> permute(0, 2, 3, 1) -> ReLU: the channels moved last by a view."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x).permute(0, 2, 3, 1))


# A convolution's output permuted channels-last (B, H, W, C) before the activation: the units
# are the C channels, now on the last axis. With H == C (and H == W == C, where the permuted
# shape equals the conv's own) the shape rules read axis 1, the image rows: a row is never dead
# while any channel lives, 0.0. The input is a view of the conv output, so its channel axis is
# the one with the conv's channel stride: by hand 1 of 4 channels is dead, 0.25.
def test_channels_last_permute_reads_channels_whatever_the_image_size() -> None:
    torch.manual_seed(0)
    model = _ChannelsLast(4)
    _dead_bias(model.conv, 1)
    for h, w in ((4, 4), (4, 6), (5, 6)):
        x = torch.randn(3, 3, h, w)
        y = model(x)
        assert (y.amax(dim=(0, 1, 2)) <= 0).float().mean().item() == 0.25  # by hand
        assert _dead(model, x, layer="act") == 0.25, (h, w)
