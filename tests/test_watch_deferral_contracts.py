"""Review of watch()'s least-exercised branches (deferred reductions, argument checks), each
checked against what the module documentation promises or against statistics taken by hand."""

from __future__ import annotations

import importlib
import weakref

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.errors import UserError

wm = importlib.import_module("trainlab.diagnostics.watch")  # the package's `watch` is the function


class _CondSeq(nn.Module):
    """A conditioning vector ``c`` (fixed shape) and a sequence ``x`` whose length varies per
    batch: the first watched output (``cond``) keeps its shape while later ones change."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = nn.Linear(4, 32)
        self.seq = nn.Linear(8, 32)
        self.act = nn.ReLU()
        self.head = nn.Linear(32, 2)

    def forward(self, c: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        h = self.cond(c)  # (B, 32) every step
        z = self.act(self.seq(x) + h[:, None])  # (B, T, 32), T varies
        return self.head(z.mean(1))


def test_deferral_buffers_stay_bounded_when_only_a_later_layer_changes_shape():
    """Module doc ("Deferred reductions"): the deferral buffers take "at most 16 MiB of buffers
    per output shape, for at most two shapes per layer", because "a step whose first output has
    a new shape first reduces the steps deferred before it". A model whose *first* watched
    output keeps its shape while a later layer's changes every step (a conditioning branch run
    before a variable-length sequence, token dropping after a fixed stem) never triggers that
    flush: every deferred step gets a fresh 16-slot buffer for the changed layers, and each
    stays alive through its slot view until the 16th step, so ~16 buffers per such layer are
    live at once instead of at most two (here tens of MiB for ~100 KiB of outputs per step; with
    outputs near DEFER_BYTES it is hundreds of MiB). The "memory stays flat" promise of the
    diagnostics is what a user relies on when turning them on for a long run."""
    torch.manual_seed(0)
    net = _CondSeq()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    refs: list[weakref.ref] = []  # (by identity: a new buffer may reuse a freed one's id)
    peak = peak_bytes = 0
    with watch(net, every=1) as w:
        for s in range(24):
            loss = net(torch.randn(16, 4), torch.randn(16, 20 + s, 8)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            for t in w._defer_bufs.values():
                if not any(r() is t for r in refs):
                    refs.append(weakref.ref(t))
            live = [r for r in refs if r() is not None]
            peak = max(peak, len(live))
            peak_bytes = max(peak_bytes, sum(r().nbytes for r in live))  # type: ignore[union-attr]
            del live
        bound = wm.DEFER_SHAPES * len(w.layers)
        w.records()
    assert peak <= bound, (
        f"{peak} deferral buffers alive at once ({peak_bytes / 2**20:.0f} MiB), "
        f"documented bound {bound}"
    )


@pytest.mark.parametrize("every", [1, 50])
def test_a_float_hist_values_is_rejected_up_front_or_works(every):
    """``hist_values``: "count at most this many values per model and layer in the histogram";
    the constructor checks it (``hist_values < 1`` is a UserError) but accepts a float such as
    ``1e3`` — the way many people write a thousand — and then the first layer output with more
    than that many values crashes with ``TypeError: slice indices must be integers`` in the
    middle of training (immediate path: inside the layer's forward hook, so inside the user's
    ``model(x)``; deferred path: inside ``w.records()``). A float count must either work (at
    most 1000 values counted) or be refused by the constructor with one clear UserError, as
    ``every=2.0`` is."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    try:
        w = watch(model, every=every, hist_values=1e3)
    except UserError:
        return  # refused up front: fine
    with w:
        for _ in range(3):
            loss = model(torch.randn(64, 8)).pow(2).mean()  # 4096 values in layers 0 and 1
            opt.zero_grad()
            loss.backward()
            opt.step()
        recs = w.records()
    counted = [sum(r["hist"]) + r["hist_under"] + r["hist_over"] for r in recs if r["hist"]]
    assert counted and max(counted) <= 1000


def test_a_float_bin_count_is_a_user_error_naming_bins():
    """``bins=60.0`` (a count written as a float) raised a bare ``TypeError: 'float' object is
    not iterable`` from the constructor; like ``every`` and ``hist_values`` it must be one
    UserError naming the argument."""
    with pytest.raises(UserError, match="bins"):
        watch(nn.Linear(2, 2), bins=60.0)
