"""Review (watch17): trainlab.diagnostics.watch on plain torch models, checked against
statistics computed by hand. Each test fails on the code it was written against."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.errors import UserError


def _counts(model: nn.Module, x: torch.Tensor, hist_values: int | None) -> np.ndarray:
    with watch(model, every=1, hist_values=hist_values) as w:
        model(x).sum().backward()
    (r,) = w.records()
    return np.array([r["hist_under"], *r["hist"], r["hist_over"]], dtype=float)


def test_hist_sample_is_not_aliased_to_one_unit():
    # hist_values' "evenly strided sample" uses stride ceil(N/hist_values), which for a (B, D)
    # output with D dividing it takes every value from unit 0 (here all 4096 from one of 16
    # features; likewise (B, T, D) with B*T = 4096, or one pixel of each (B, C, H, W) channel):
    # the histogram must describe the whole layer, e.g. a stride coprime with the trailing dims
    torch.manual_seed(0)
    lin = nn.Linear(8, 16)
    with torch.no_grad():  # a trained layer: its units have different scales
        lin.weight.mul_(torch.linspace(0.05, 2.0, 16)[:, None])
        lin.bias.zero_()
    x = torch.randn(4096, 8)
    full = _counts(lin, x, None)
    sampled = _counts(lin, x, 4096)  # the default hist_values
    assert sampled.sum() <= 4096
    tv = 0.5 * np.abs(full / full.sum() - sampled / sampled.sum()).sum()
    assert tv < 0.1, f"sampled histogram differs from the layer's (total variation {tv:.2f})"


def test_empty_layers_selection_is_a_user_error():
    # watch(model, layers=[]) (e.g. a filter over named_modules() that matched nothing) watches
    # nothing and silently returns no records; the default selection finding nothing is a
    # UserError, and an empty explicit selection should be one too
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(UserError):
        watch(m, layers=[])
