"""Review diff36f: watch's view pass (_viewed_units, 14883ec)."""

import torch
from torch import nn

from trainlab.diagnostics import watch


class _HalfChannelsLast(nn.Module):
    """Conv2d(3, 4) -> its first 2 channels (a GLU-style chunk) moved last -> ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, _ = self.conv(x).chunk(2, dim=1)
        return self.act(a.permute(0, 2, 3, 1))  # (B, H, W, 2): a view of the conv output


# watch.py _viewed_units matches the conv's channel axis in the activation's input by size AND
# stride; a chunk/narrow of the channels keeps their stride (H*W) but not their size (2 of 4),
# so no axis matches and the shape rules read axis 1, the H image rows (or the static guess,
# "channel", also axis 1): 0.0, since no row is dead. The input is still a view of the conv
# output with the channels moved last (the docstring's "the axis its units went to"): the units
# are the 2 channels on the last axis. Conv channel 0 has bias -100 (dead on every sample and
# pixel), channel 1 bias +1: by hand 1 of 2 units dead, 0.5, for any image size.
# Fix: match the unit axis by stride (and size <= the layer's unit count) rather than size.
def test_chunked_channels_moved_last_read_as_channels() -> None:
    torch.manual_seed(0)
    model = _HalfChannelsLast()
    with torch.no_grad():
        model.conv.weight.mul_(0.01)
        model.conv.bias.fill_(1.0)
        model.conv.bias[0] = -100.0
    for h, w in ((4, 4), (5, 6)):
        x = torch.randn(3, 3, h, w)
        y = model(x)
        assert (y.amax(dim=(0, 1, 2)) <= 0).float().mean().item() == 0.5  # by hand
        with watch(model, every=1) as wt:
            model(x).sum().backward()
        rec = next(r for r in wt.records() if r["layer"] == "act")
        assert rec["dead_fraction"] == 0.5, (h, w)
