"""Review (watchstats21): watch's numbers against a hand computation.

Evenly spaced histogram bins are found as ``floor(y*scale - (low*scale - 1))`` in float32
(stats.uniform_bin_positions / Watch._finalize); the float32 addition rounds a value just below
an edge up onto it, so tanh's saturated outputs 0.99999994 (< 1) are counted at/above 1.0.
"""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import watch


def _tanh_record(x: torch.Tensor, **kw):
    net = nn.Sequential(nn.Tanh())
    with watch(net, **kw) as w:
        y = net(x)
        y.sum().backward()
    return y.detach(), w.records()[0]


def test_saturated_tanh_below_one_is_not_counted_in_hist_over():
    # wrong: tanh(9) = 0.99999994 < 1.0 lands in hist_over (documented: values >= high) with
    # hist_range=(-1, 1); right: it is counted in the last bin [0.9, 1.0)
    x = torch.tensor([[9.0, 8.5, 0.3, -9.0]], requires_grad=True)
    y, r = _tanh_record(x, hist_range=(-1.0, 1.0), bins=20)
    assert bool((y < 1.0).all())
    assert r["hist_over"] == 0
    assert r["hist"][-1] == 2


def test_uniform_bins_count_values_as_their_edges_say():
    # wrong: with bins=60 over (-3, 3), values 0.99999994 are counted in [1.0, 1.1), and the
    # same edges given as a list (bucketize path) count them in [0.9, 1.0); right: both count
    # each value in the bin [e_j, e_{j+1}) that contains it
    x = torch.tensor([[9.0, 8.5, 2.0, 0.3, -9.0]], requires_grad=True)
    y, r = _tanh_record(x)
    edges = r["hist_edges"]
    pairs = zip(edges[:-1], edges[1:], strict=True)
    exact = [int(((y >= lo) & (y < hi)).sum()) for lo, hi in pairs]
    _, r_list = _tanh_record(x, bins=edges)
    assert r_list["hist"] == exact  # (the list path is right)
    assert r["hist"] == exact
