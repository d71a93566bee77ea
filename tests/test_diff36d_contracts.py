"""Review diff36d: this session's changes (e717e3a..HEAD) in watch's _units_before and the CLI."""

import subprocess
import sys

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


def _dead(model: nn.Module, x: torch.Tensor, layer: str) -> float:
    with watch(model, every=1) as w:
        model(x).sum().backward()
    return next(r for r in w.records() if r["layer"] == layer)["dead_fraction"]


def _srgan_block(c: int, r: int) -> nn.Sequential:
    """Sub-pixel upsampling block (SRGAN/ESPCN): Conv2d(3, C*r^2) -> PixelShuffle(r) -> ReLU,
    output channel 0 (conv channels 0..r^2-1, bias -100) dead on every sample and pixel."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, c * r * r, 3, padding=1), nn.PixelShuffle(r), nn.ReLU())
    with torch.no_grad():
        model[0].weight.mul_(0.01)
        model[0].bias.fill_(1.0)
        model[0].bias[: r * r] = -100.0
    return model


# 3e83ec6's view pass reads a convolution's channels as moved to the last axis whenever the
# conv's channel count equals y's last size (count == y.shape[-1]). After a 2-D pixel shuffle
# (B, C*r^2, H, W) -> (B, C, r*H, r*W) that holds by coincidence when r*W == C*r^2, i.e. it
# depends on the image size: SRGAN's 64 -> 256-channel conv + PixelShuffle(2) on a 128-wide
# input (or its second block for a 64x64 LR image: the usual 64 -> 256 x4 set-up) gives
# y (B, 64, 256, 256) and its 256 columns become the units. Here C=4, r=2: 8x8 input -> y
# (B, 4, 16, 16), 16 == 4*2^2. By hand (and on a 9x9 input, or before 3e83ec6) 1 of the 4
# channels is dead: 0.25; the watch reads 0.0 on the 8x8 input. Fix: take "last" for a
# convolution only when the view moved the channels (e.g. y has fewer axes than the conv's
# output, the flatten(2).transpose(1, 2) to tokens), not when a same-rank reshape such as a
# pixel shuffle merely makes the last size equal the channel count.
def test_pixel_shuffle_dead_channels_do_not_depend_on_image_width() -> None:
    model = _srgan_block(c=4, r=2)
    x8, x9 = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 9, 9)
    y = model(x8)
    assert (y.amax(dim=(0, 2, 3)) <= 0).float().mean().item() == 0.25  # by hand: 1 of 4
    assert _dead(model, x9, layer="2") == 0.25  # (a width with no coincidence)
    assert _dead(model, x8, layer="2") == 0.25


class _HeadsReLU(nn.Module):
    """A projection over tokens split into heads, then a ReLU feature map (ReLU-kernel linear
    attention): Linear (B, T, H*d) -> view (B, T, H, d) -> ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Linear(6, 8)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return self.act(self.q(x).view(b, t, 2, 4))


# c4390a6's view pass turns a Linear's features viewed with >= 3 axes per sample into
# "channel" (meant for Linear(z, C*H*W) -> Unflatten to (B, C, H, W)), but a Linear over
# tokens (B, T, D) viewed as heads (B, T, H, d) has 3 axes per sample too: axis 1 (the T
# tokens) becomes the units, and a token is never dead while any of its features lives. The
# docs say units after a Linear are the last axis; before c4390a6 the static guess read it.
# Features d=0 of both heads (Linear outputs 0 and 4, bias -100) are dead on every sample and
# token: on the last axis 1 of 4 units is dead (0.25; also 2 of the Linear's 8 features, 0.25).
# The watch reads 0.0. Fix: in the view pass a "last" entry gives "channel" only when its
# output had one axis per sample ((B, D) unflattened); a (B, T, D) split into heads keeps the
# last axis.
def test_linear_over_tokens_split_into_heads_keeps_last_axis_units() -> None:
    torch.manual_seed(0)
    model = _HeadsReLU()
    with torch.no_grad():
        model.q.weight.mul_(0.01)
        model.q.bias.fill_(1.0)
        model.q.bias[0] = -100.0
        model.q.bias[4] = -100.0
    x = torch.randn(4, 5, 6)
    y = model(x)
    assert (y.amax(dim=(0, 1, 2)) <= 0).float().mean().item() == 0.25  # by hand, last axis
    assert _dead(model, x, layer="act") == 0.25


# 2268443 makes help printed into a failing stdout behave as every other command's output
# (exit 0, one stderr line), but only for EPIPE: with stdout on a full disk (`> /dev/full`)
# `trainlab models` exits 0 with "trainlab: stdout cannot be written (...)", while
# `trainlab --help` exits 2 with "error: cannot write: No space left on device; what was
# written before is intact; free space (or fix the disk), then run it again" (no run file was
# involved: misleading). Fix: treat an OSError from printing help (typer re-raises non-EPIPE
# ones) as console.on_broken_pipe/_drop_output does for the other commands. (Only --help is
# run here: `models` imports torch, too slow for this file.)
@pytest.mark.skipif(sys.platform != "linux", reason="/dev/full is Linux's")
def test_help_into_full_stdout_exits_as_other_commands() -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        with open("/dev/full", "w") as full:
            return subprocess.run(
                [sys.executable, "-m", "trainlab", *args],
                stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
            )  # fmt: skip

    helped = run("--help")
    assert helped.returncode == 0, helped.stderr
    assert "what was written before is intact" not in helped.stderr
