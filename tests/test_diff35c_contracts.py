"""Review diff35c: dead_fraction's unit axis after 4dc40f7 (units per output rank), recomputed
by hand on plain torch models."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import watch


def _dead_and_hand(m: nn.Module, *inputs: torch.Tensor) -> tuple[float, float]:
    """(the watch's dead_fraction of ``m.relu``, the per-channel one by hand: axis 1 of y)."""
    seen: dict[str, torch.Tensor] = {}
    h = m.relu.register_forward_hook(lambda mod, a, o: seen.__setitem__("y", o.detach()))
    with watch(m, every=1) as w:
        m(*inputs).sum().backward()
        recs = w.records()
    h.remove()
    y = seen["y"]
    hand = (y.transpose(0, 1).reshape(y.shape[1], -1).amax(1) <= 0).float().mean().item()
    (rec,) = [r for r in recs if r["layer"] == "relu"]
    return rec["dead_fraction"], hand


class _TokensThenConv(nn.Module):
    """A token branch Linear (B, T, D) runs first; then conv (B, C, H, W) -> flatten(2) ->
    ReLU on (B, C, H*W): the ReLU's units are the conv's channels (axis 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Linear(5, 6)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        with torch.no_grad():
            self.conv.bias[:4] = -100.0  # channels 0-3 are <= 0 at every sample and pixel

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = self.tok(t)  # (B, T, 6): rank 3, layout "last"
        return self.relu(self.conv(x).flatten(2)).sum() + a.sum()


# watch.py _forward_hook: units = sample.units.get(y.dim()) takes the layout of the last
# layout-setting layer *of the same output rank*, however long ago it ran and whether or not it
# produced the activation's input. Here the ReLU's input comes from the conv (rank 4, channels
# on axis 1, kept by flatten(2)), but the stale rank-3 entry of the unrelated token Linear
# ("last") is taken, so the ReLU is judged per H*W position: 4 of its 8 channels are 0
# everywhere, dead_fraction must be 0.5 (by hand, as before 4dc40f7, which took the conv's
# layout), the watch records 0.0. Fix: accept a remembered layout only if it is the latest
# layout-setting layer's, or if its unit count matches the activation's unit axis (channel:
# y.shape[1] == the producer's C), else the static guess.
def test_dead_fraction_not_taken_from_a_stale_layer_of_the_same_rank() -> None:
    torch.manual_seed(0)
    m = _TokensThenConv()
    dead, hand = _dead_and_hand(m, torch.randn(4, 3, 5, 5), torch.randn(4, 7, 5))
    assert hand == 0.5
    assert dead == hand


class _SharedEmbedding(nn.Module):
    """Batched conv (B, C, H, W) plus a Linear of one shared (D,) embedding added per channel
    (a diffusion time / class embedding given without batch axis), then ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.emb = nn.Linear(4, 8)
        self.relu = nn.ReLU()
        self.t = nn.Parameter(torch.randn(4))
        with torch.no_grad():
            self.conv.bias[:4] = -100.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)  # (B, 8, H, W), batched
        e = self.emb(self.t)  # (8,): an unbatched Linear call, after the conv
        return self.relu(h + e[None, :, None, None])


# 4dc40f7 keys the layout by output rank (the ReLU's rank-4 output takes the conv's "channel")
# but sample.unbatched stays one flag, set by whichever layout layer ran last: the Linear given
# a (D,) vector sets it, so the batched (4, 8, 5, 5) ReLU output is read as ONE sample
# (unsqueeze(1)) whose axis 1 is the batch: the units become the 4 samples, none dead -> 0.0.
# By hand 4 of 8 channels are 0 at every sample and pixel: 0.5. Fix: keep unbatched per rank
# with the layout (sample.units[rank] = (layout, unbatched)).
def test_dead_fraction_unbatched_flag_of_another_rank_not_applied() -> None:
    torch.manual_seed(0)
    m = _SharedEmbedding()
    dead, hand = _dead_and_hand(m, torch.randn(4, 3, 5, 5))
    assert hand == 0.5
    assert dead == hand
