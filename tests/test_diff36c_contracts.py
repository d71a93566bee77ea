"""Review diff36c: c4390a6's "view" rule in watch's _units_before (dead_fraction's unit axis)."""

import torch
from torch import nn

from trainlab.diagnostics import watch


def _dead(model: nn.Module, *inputs: torch.Tensor, layer: str) -> float:
    with watch(model, every=1) as w:
        model(*inputs).sum().backward()
    return next(r for r in w.records() if r["layer"] == layer)["dead_fraction"]


class _SubPixel1d(nn.Module):
    """1-D sub-pixel shuffle (audio super-resolution): (B, C*r, L) -> (B, C, L*r)."""

    def __init__(self, r: int) -> None:
        super().__init__()
        self.r = r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, cr, length = x.shape
        c = cr // self.r
        return x.view(b, c, self.r, length).permute(0, 1, 3, 2).reshape(b, c, length * self.r)


# Conv1d(3, C*r) -> 1-D sub-pixel shuffle -> ReLU: the ReLU's (B, C, L*r) views the conv's
# (B, C*r, L), so the new view rule fires and, y being 3-D, returns "last": the L*r time
# positions become the units. By the documented definition the units after a convolution are
# its channels (axis 1 of (B, C, *spatial)), and the rule's own docstring says a view of image
# features takes their channels. Output channel 0 (conv channels 0..r-1, bias -100) is <= 0 on
# every sample and position: 1 of C=4 channels dead, 0.25. The watch reads 0.0 (no time
# position is dead on all channels); before c4390a6 the static guess (the Conv1d: "channel")
# read 0.25. Fix: when the viewed entry's layout is "channel", keep the channel axis for a
# view whose y has a channel axis (y.dim() - lead >= 2), and take "last" only for the
# flatten-and-transpose to tokens (e.g. when count == y.shape[-1]).
def test_dead_fraction_after_conv1d_subpixel_shuffle_counts_channels() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(3, 4 * 2, 3, padding=1), _SubPixel1d(2), nn.ReLU())
    with torch.no_grad():
        model[0].weight.mul_(0.01)
        model[0].bias.fill_(1.0)
        model[0].bias[:2] = -100.0  # output channel 0 after the shuffle
    x = torch.randn(6, 3, 5)
    y = model(x)
    assert (y.amax(dim=(0, 2)) <= 0).float().mean().item() == 0.25  # by hand: 1 of 4 channels
    assert _dead(model, x, layer="2") == 0.25


class _Fuse(nn.Module):
    """A pooled conv branch plus a Linear over tokens transposed to channels, then ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.proj = nn.Linear(6, 4)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.act(self.pool(self.conv(x)) + self.proj(t).transpose(1, 2))


# The module docstring orders the rules: "the last whose unit count matches through a flatten
# or broadcast ..., else the last whose output the activation's views with as many values per
# sample". The code checks the view rule inside the same latest-first loop, so a LATER layer of
# merely equal numel wins over an earlier count match. Here y = relu(pool(conv(x)) +
# proj(t).transpose(1, 2)) is (B, 4, 5): the conv's 4 channels match y's axis 1 (count rule:
# "channel", right), but the Linear, which ran later, has (B, 5, 4), 20 values per sample like
# y, so the view rule answers "last" and reads the 5 positions. Channel 0 (conv bias -100,
# Linear branch ~0) is dead on every sample and position: 1 of 4 channels, 0.25; the watch
# reads 0.0 (before c4390a6: 0.25). Fix: run the view rule in a separate pass after the count
# pass over all entries, as documented.
def test_dead_fraction_count_match_wins_over_a_later_view_match() -> None:
    torch.manual_seed(0)
    model = _Fuse()
    with torch.no_grad():
        model.conv.weight.mul_(0.01)
        model.conv.bias.fill_(1.0)
        model.conv.bias[0] = -100.0
        model.proj.weight.mul_(0.01)
        model.proj.bias.zero_()
    x, t = torch.randn(5, 3, 10), torch.randn(5, 5, 6)
    y = model(x, t)
    assert (y.amax(dim=(0, 2)) <= 0).float().mean().item() == 0.25  # by hand: 1 of 4 channels
    assert _dead(model, x, t, layer="act") == 0.25
