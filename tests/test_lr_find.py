"""The LR range test's stopping rule: each point against the best smoothed loss so far."""

from __future__ import annotations

import math

import torch

from trainlab.optim.lr_find import first_stop, lr_find, smooth


def test_a_falling_loss_never_stops_the_test():
    """A loss that falls 8× must keep the whole curve: the first point is not "diverged" just
    because a later point is much lower (the defect compared with the best of the whole curve)."""
    lrs = [10 ** (-4 + i / 10) for i in range(40)]
    loss = [2.3 / (1 + math.exp(4 * (math.log10(x) + 2.5))) + 0.25 for x in lrs]  # 2.55 → 0.25
    assert loss[0] > 4 * min(loss)
    assert first_stop(smooth(loss), lrs, 4.0) is None


def test_the_first_point_above_diverge_times_the_best_so_far_stops():
    lrs = [0.1 * (i + 1) for i in range(8)]
    sm = [2.0, 1.0, 0.5, 0.6, 1.9, 2.1, 0.1, 5.0]
    assert first_stop(sm, lrs, 4.0) == (5, "smoothed loss > 4× best at lr 0.6")
    assert first_stop([1.0, math.nan, 0.5], lrs, 4.0) == (1, "loss NaN/Inf at lr 0.2")
    assert first_stop(sm[:5], lrs, 4.0) is None


def test_lr_find_keeps_the_whole_curve_of_a_healthy_run():
    """Two separable blobs: the loss falls > 4× over the sweep, which must not stop the test."""
    from trainlab.config import parse_config
    from trainlab.data.datasets import Dataset

    g = torch.Generator().manual_seed(0)
    y = torch.arange(128) % 2
    x = torch.randn(128, 4, generator=g) * 0.5 + (y[:, None] * 2 - 1)
    ds = Dataset("blobs", x, y, x[:16], y[:16], x[:16], y[:16], (4,), 2)
    cfg = parse_config(
        {
            "optim": {"name": "adam", "lr": 1e-3},
            "model": {"name": "mlp", "hidden": [8]},
            "train": {"epochs": 1, "batch_size": 32},
            "population": {"seeds": [0]},
        }
    )
    res = lr_find(
        cfg, start_lr=1e-3, end_lr=0.3, num_steps=40, check_every=10, device="cpu", dataset=ds
    )
    sm = res.smoothed[0]
    assert sm[0] > 4 * min(sm)  # the loss did fall more than diverge=4×
    assert len(res.losses[0]) == 40 and res.stop_reasons == ["reached end_lr"]
    assert res.suggestions[0]["steep"] is not None and res.suggestions[0]["min/10"] is not None
