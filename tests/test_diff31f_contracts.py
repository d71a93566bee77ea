"""Review diff31f: commits 4c4d70c..HEAD (Thresholds, update-ratio worst layer, Dataset.checked)."""

from __future__ import annotations

import numpy as np
import torch

from trainlab.data import Dataset
from trainlab.diagnostics import verdict


def _update_rows(ratios: dict[str, float]) -> list[dict]:
    return [
        {"model": 0, "step": s, "layer": layer, "order": i, "nonfinite": False,
         "grad_norm": 1.0, "weight_norm": 1.0, "update_ratio": u}
        for s in range(3)
        for i, (layer, u) in enumerate(ratios.items())
    ]  # fmt: skip


# Wrong: Thresholds accepts update_low=0, update_high=0 (finite, >= 0, low <= high), but the new
# worst-layer key `excess` computes log10(u / t.update_high) and raises ZeroDivisionError from
# verdict() for any layer that moved. Before 0782582 (max by distance from 1e-3) it warned.
# Right: every ratio > 0 is above a high bound of 0, so the check warns "too large", naming a
# layer (the larger ratio, 'b', is the furthest beyond it).
def test_update_ratio_with_high_bound_zero_warns_instead_of_crashing() -> None:
    rows = _update_rows({"a": 1e-3, "b": 2e-3})
    fs = verdict(rows, thresholds={"update_low": 0.0, "update_high": 0.0})
    (f,) = [f for f in fs if f.check == "update_ratio"]
    assert f.status == "warn"
    assert "too large" in f.message and f.layer == "b", f.message
    assert set(f.layers) == {"a", "b"}


# Wrong: the new input_shape check in Dataset.checked() requires isinstance(d, int), so a shape
# of numpy integers ((np.int64(4),), e.g. built from np.prod or tuple(np.array(...))) is refused
# with "input_shape must be a tuple of sizes ... got (np.int64(4),)", which it is. Such a
# Dataset trained fine before 9ad1312 (train(cfg, dataset=ds) ran), and the sibling commit made
# Thresholds take numpy numbers. Right: accept any non-bool integral size (operator.index),
# as torch.Size and lists already are; checked() must not raise.
def test_checked_accepts_numpy_integer_input_shape() -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 4, generator=g), torch.arange(40) % 2
    ds = Dataset(
        name="toy", x_train=x[:24], y_train=y[:24], x_val=x[24:32], y_val=y[24:32],
        x_test=x[32:], y_test=y[32:], input_shape=(np.int64(4),), num_classes=2,
    )  # fmt: skip
    out = ds.checked()
    assert tuple(int(d) for d in out.input_shape) == (4,)
