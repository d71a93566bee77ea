"""Review read29p: watch.py from ~line 1000 to the end (measuring, finalizing, records)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


class _Scale(nn.Module):
    """y = w * x with one parameter (so the default layer selection watches it)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.w


# Watch._finalize counts the histogram in float32 (_HIST_COPIES copies, then summed in
# float32): above 2**24 values in one bin the float32 sum is no longer exact. With
# hist_values=None ("all values") an output of 2**24 + 3 values, all in one bin, records
# 16777220 there. Every value lies in [-1, -0.5) (the first of 4 bins over (-1, 1)), so the
# hand count is exactly n in that bin and 0 elsewhere; under + bins + over must equal n.
def test_histogram_counts_are_exact_above_2_pow_24_values():
    n = (1 << 24) + 3
    m = _Scale()
    x = torch.full((1, n), -0.75)
    with watch(m, hist_values=None, bins=4, hist_range=(-1.0, 1.0)) as w:
        m(x).sum().backward()
    r = w.records()[0]
    assert r["hist"] == [n, 0, 0, 0]
    assert r["hist_under"] + sum(r["hist"]) + r["hist_over"] == n


# _rounded_edges rounds every edge to 6 decimals relative to the *widest* edge, which is
# right for linspace edges (-1.66e-16 is 0) but destroys user-given log-spaced edges:
# bins=[0, 1e-8, 1e-6, ..., 100] is recorded as hist_edges [0.0, 0.0, 1e-06, ...], so the
# record says 0.0..0.0 holds the ReLU zeros. The edges the user gave are exact float32-
# representable-to-7-digits values and the counts were made against them: the record must
# carry them (to float32 precision).
def test_user_given_log_spaced_edges_are_recorded_as_given():
    torch.manual_seed(0)
    edges = [0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0, 100.0]
    m = nn.Sequential(nn.Linear(4, 16), nn.ReLU())
    with watch(m, bins=edges) as w:
        m(torch.randn(8, 4)).sum().backward()
    r = w.records()[1]
    assert r["hist_edges"] == pytest.approx(edges, rel=1e-6, abs=0.0)
    assert all(a < b for a, b in zip(r["hist_edges"], r["hist_edges"][1:], strict=False))


# A list of edges is stored as float32 (_edges) and a float64 output is bucketized against
# those rounded edges: float32(0.1) = 0.10000000149 > 0.1, so the float64 value 0.1 (a
# Hardtanh(-0.1, 0.1) at its cap) is counted in [0, 0.1) instead of the overflow
# (">= edges[-1]"). The same bins given as bins=2, hist_range=(-0.1, 0.1) (exact edges,
# Watch's uniform path) count it as overflow. By hand: -0.1 and -0.05 are in [-0.1, 0),
# 0.05 in [0, 0.1), 0.1 >= 0.1 is over.
def test_float64_value_on_a_given_edge_is_binned_as_with_a_count_and_range():
    m = nn.Sequential(nn.Linear(1, 1), nn.Hardtanh(-0.1, 0.1)).double()
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.zero_()
    x = torch.tensor([[-5.0], [-0.05], [0.05], [5.0]], dtype=torch.float64)
    got = []
    for kw in ({"bins": [-0.1, 0.0, 0.1]}, {"bins": 2, "hist_range": (-0.1, 0.1)}):
        with watch(m, **kw) as w:
            m(x).sum().backward()
        r = w.records()[1]
        got.append((r["hist_under"], r["hist"], r["hist_over"]))
    assert got[0] == (0, [2, 1], 1)
    assert got[0] == got[1]
