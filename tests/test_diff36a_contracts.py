"""Review diff36a: watch()'s unit axis for dead_fraction (final state of _units_before)."""

import torch
from torch import nn

from trainlab.diagnostics import watch


# A VAE/GAN decoder head, Linear(z, C*H*W) -> nn.Unflatten(1, (C, H, W)) -> ReLU, is read on
# the wrong axis: no watched layer's output has the ReLU's shape and the Linear's unit count
# (C*H*W) matches neither C nor W, so _units_before returns no layout and the static guess
# (the Linear's "last") takes W as the units: a W column is dead only if every channel and row
# at it is, so dead channels are never counted. Here channel 0 (9 of the Linear's 36
# features, all of its H*W positions) is <= 0 on every sample: whether the units are the
# Linear's 36 features (9/36) or the 4 channels (1/4), the dead fraction is 0.25; the watch
# reads 0.0. Fix: in _units_before, let an entry whose unit count equals the product of y's
# non-batch sizes (an unflatten/view of the layer's features) decide too (e.g. as channels,
# or per element), instead of falling to the static guess.
def test_dead_fraction_after_linear_unflatten_counts_dead_channels() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 4 * 3 * 3), nn.Unflatten(1, (4, 3, 3)), nn.ReLU())
    with torch.no_grad():
        model[0].weight.mul_(0.1)
        model[0].bias.fill_(1.0)  # every other feature positive on every sample
        model[0].bias[:9] = -100.0  # channel 0: all of its 3x3 positions dead
    x = torch.randn(16, 8)
    with watch(model, every=1) as w:
        model(x).sum().backward()
    rec = next(r for r in w.records() if r["layer"] == "2")
    assert rec["dead_fraction"] == 0.25


# A ViT patch embedding, Conv2d -> flatten(2).transpose(1, 2) -> ReLU on tokens (B, H*W, C):
# the conv's channel count C is neither the token count nor (as "channel") axis 1, so the
# static guess took the tokens (axis 1) as the units. The tokens' features are the conv's C
# channels: channel 0 at -100 bias is dead on every token and sample, 1 of 4.
def test_dead_fraction_after_patch_embedding_counts_token_features() -> None:
    torch.manual_seed(0)

    class PatchEmbed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Conv2d(3, 4, kernel_size=2, stride=2)
            self.act = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(self.proj(x).flatten(2).transpose(1, 2))

    model = PatchEmbed()
    with torch.no_grad():
        model.proj.weight.mul_(0.01)
        model.proj.bias.fill_(1.0)
        model.proj.bias[0] = -100.0
    x = torch.randn(5, 3, 6, 6)  # 9 tokens of 4 features
    with watch(model, every=1) as w:
        model(x).sum().backward()
    rec = next(r for r in w.records() if r["layer"] == "act")
    assert rec["dead_fraction"] == 0.25
