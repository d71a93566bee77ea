"""Review diff36g: watch's view pass (_viewed_units, 14883ec and 49f2d55): unit axes of size 1
and strided channel slices, whose stride does not tell where the units went."""

import torch
from torch import nn

from trainlab.diagnostics import watch


def _dead(model: nn.Module, x: torch.Tensor, layer: str = "act") -> float:
    with watch(model, every=1) as w:
        model(x).sum().backward()
    return next(r for r in w.records() if r["layer"] == layer)["dead_fraction"]


class _ConvView(nn.Module):
    """Conv2d -> a view of its output (``view``) -> ReLU."""

    def __init__(self, cin: int, cout: int, view) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1)
        self.act = nn.ReLU()
        self.view = view

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.view(self.conv(x)))


# watch.py _viewed_units only takes an axis of size > 1 as the unit axis (a size-1 axis has no
# meaningful stride), so a convolution with ONE output channel moved channels-last
# (permute(0, 2, 3, 1) -> (B, H, W, 1)) or to tokens (flatten(2).transpose(1, 2) -> (B, H*W, 1))
# matches nothing and the shape rules read axis 1: the image rows / the tokens. The one unit is
# the single channel; it is alive (> 0 at pixel (0, 0) of every sample: 1*3 - 1 = 2), so by hand
# (as the docstring defines units: the conv's channels, on the axis the view moved them to)
# 0 of 1 units is dead, 0.0; the watch reads 0.8 (4 of 5 rows) and 29/30 (tokens).
# Fix: when the layer's unit axis has size 1, take the axis of x of size 1 where the view put it
# (the last axis here: "last").
def test_one_channel_moved_last_is_one_unit() -> None:
    x = torch.zeros(2, 1, 5, 6)
    x[:, :, 0, 0] = 3.0
    views = {
        "permute": lambda o: o.permute(0, 2, 3, 1),
        "tokens": lambda o: o.flatten(2).transpose(1, 2),
    }
    for name, view in views.items():
        model = _ConvView(1, 1, view)
        with torch.no_grad():
            model.conv.weight.fill_(1.0)
            model.conv.bias.fill_(-1.0)
        y = model(x)
        assert (y.amax(dim=tuple(range(y.dim() - 1))) <= 0).float().mean().item() == 0.0
        assert _dead(model, x) == 0.0, name


# A strided slice of the channels (every other channel, out[:, ::2]) moved channels-last:
# (B, 8, H, W) -> (B, H, W, 4), the 4 kept channels on the last axis with stride 2*H*W. The
# stride rule wants exactly the conv's channel stride H*W, so it finds no axis, and the shape
# rules (count 8 matches nothing; 4*H*W != 8*H*W values) fall to the static guess "channel",
# axis 1: the 5 image rows, none dead: 0.0. By hand conv channel 0 (bias -100, kept as unit 0)
# is dead on every sample and pixel and channels 2, 4, 6 (bias 1, tiny weights) never are:
# 1 of 4 units, 0.25. Fix: also accept an axis whose stride is a multiple m of the unit stride
# with at most ceil(count / m) entries (and test the unflatten against that stride).
def test_every_other_channel_moved_last_reads_channels() -> None:
    torch.manual_seed(0)
    model = _ConvView(3, 8, lambda o: o[:, ::2].permute(0, 2, 3, 1))
    with torch.no_grad():
        model.conv.weight.mul_(0.01)
        model.conv.bias.fill_(1.0)
        model.conv.bias[0] = -100.0
    x = torch.randn(2, 3, 5, 6)
    y = model(x)
    assert tuple(y.shape) == (2, 5, 6, 4)
    assert (y.amax(dim=(0, 1, 2)) <= 0).float().mean().item() == 0.25  # by hand
    assert _dead(model, x) == 0.25


# A one-channel head squeezed (a depth / density map: Conv2d(C, 1) -> squeeze(1) -> ReLU) gives
# (B, H, W): the single channel is the only unit, but no axis holds it and the watch reads axis
# 1, the rows (0.8: rows 1..4 are <= 0 everywhere). By hand the channel is > 0 at pixel (0, 0):
# 0 of 1 units dead, 0.0. Fix: a layer whose one unit was squeezed away is one unit (measure
# the activation as (K, B, 1), as unit_peaks does for a (K, B) output).
def test_one_channel_squeezed_is_one_unit() -> None:
    model = _ConvView(1, 1, lambda o: o.squeeze(1))
    with torch.no_grad():
        model.conv.weight.fill_(1.0)
        model.conv.bias.fill_(-1.0)
    x = torch.zeros(2, 1, 5, 6)
    x[:, :, 0, 0] = 3.0
    assert model(x).amax().item() > 0  # the one unit lives: 0 of 1 dead
    assert _dead(model, x) == 0.0
