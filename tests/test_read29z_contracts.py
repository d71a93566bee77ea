"""Review read29z: trainlab.diagnostics.stats (sample_stride coverage, ReLU6 dead units)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from trainlab.diagnostics import stats, watch


# stats.sample_stride promises that its stride "divides no trailing product of shape (D, H·W,
# ...), so the sampled positions cycle through every unit, column and channel". Coprimality only
# guarantees a full cycle after C·H·W samples; when the stride is just above a multiple of H·W
# (12289 = 3·4096 + 1 for a (128, 96, 64, 64) conv output and the default hist_values=4096), the
# channel index advances by 3 per sample and the 4096 samples see only 32 of the 96 channels (the
# histogram in diagnostics.jsonl is of one channel in three); (128, 256, 5, 5) misses 13 of 256
# channels with ~15 samples per channel. With >= 4096 samples every channel must be sampled
# (positions i·s, row-major, the same as uniform_histogram's y[:, ::s]).
@pytest.mark.parametrize("shape", [(128, 96, 64, 64), (128, 256, 5, 5)])
def test_sample_stride_covers_every_channel(shape):
    max_values = 4096
    s = stats.sample_stride(shape, max_values)
    n = math.prod(shape)
    idx = np.arange(0, n, s, dtype=np.int64)
    assert len(idx) <= max_values
    channels = (idx // (shape[2] * shape[3])) % shape[1]
    assert len(idx) >= 8 * shape[1]  # enough samples to see every channel
    assert len(np.unique(channels)) == shape[1]


# dead_fraction with cap (ReLU6): a unit is counted dead only when its max is <= 0 or its min is
# >= 6, but a unit that is 0 on some samples and 6 on the others also passes no gradient (ReLU6's
# gradient is 0 outside (0, 6)), as the docstring's own rationale says ("either way no gradient
# passes") and the README ("units at 0 (ReLU6: or at its cap 6) on every sample"). Such units are
# what an exploding pre-activation produces. Here units 0 (0/6 mixed), 1 (all 0) and 2 (all 6)
# pass no gradient, unit 3 does: 3/4 dead; the code says 2/4.
def test_relu6_dead_fraction_counts_units_at_zero_or_cap_on_every_sample():
    y = torch.tensor(
        [[0.0, 0.0, 6.0, 0.0], [6.0, 0.0, 6.0, 3.0], [0.0, 0.0, 6.0, 6.0], [6.0, 0.0, 6.0, 0.0]]
    ).unsqueeze(0)  # (K=1, B=4, U=4)
    assert stats.dead_fraction(y, "last", cap=6.0).item() == pytest.approx(0.75)


# The same through watch(): a Linear with huge weights before a ReLU6 puts every output at 0 or
# 6, so the units that never land in (0, 6) get no gradient (checked with autograd below), yet
# the recorded dead_fraction is 0.0 and the dying-ReLU check cannot fire.
def test_watch_relu6_dead_fraction_matches_zero_gradient_units():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 16), nn.ReLU6(), nn.Linear(16, 1))
    with torch.no_grad():
        m[0].weight.mul_(1000)
    x = torch.randn(64, 4)
    with watch(m, every=1) as w:
        m(x).sum().backward()
    h = m[0](x).detach()
    hh = h.clone().requires_grad_()
    nn.ReLU6()(hh).sum().backward()
    expected = float((hh.grad == 0).all(dim=0).float().mean())
    assert expected > 0.25  # most units are stuck at 0 or 6
    rec = next(r for r in w.records() if r["layer"] == "1")
    assert rec["dead_fraction"] == pytest.approx(expected)
