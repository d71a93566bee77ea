"""The LR range test's stopping rule: each point against the best smoothed loss so far."""

from __future__ import annotations

import math

import pytest
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


def _hand_steep(lrs: list[float], sm: list[float]) -> float | None:
    """The steepest central-difference descent before the smoothed minimum, by hand."""
    i_min = min(range(len(sm)), key=sm.__getitem__)
    best = None
    for i in range(1, max(i_min, 2)):
        d = (sm[i + 1] - sm[i - 1]) / (math.log10(lrs[i + 1]) - math.log10(lrs[i - 1]))
        if d < 0 and (best is None or d < best[0]):
            best = (d, i)
    return None if best is None else lrs[best[1]]


def test_a_loss_that_never_falls_gives_no_suggestion():
    """A smoothed loss rising from the first LR has no descent: `steep` must not name the
    second LR (the least positive slope), and `min/10` must not name a tenth of start_lr,
    outside the tested range."""
    from trainlab.optim.lr_find import suggest

    lrs = [10 ** (-3 + i / 10) for i in range(30)]
    rising = smooth([1.0 + 0.1 * i for i in range(30)])
    assert suggest(lrs, rising) == {"steep": None, "min/10": None}
    # a falling stretch keeps both, and `steep` is the hand-computed steepest descent
    dip = smooth([2.0, 1.9, 1.5, 1.0, 0.9, 0.95, 3.0, 9.0] + [9.0] * 22)
    sug = suggest(lrs, dip)
    i_min = min(range(30), key=dip.__getitem__)
    assert sug["steep"] == _hand_steep(lrs, dip) and sug["steep"] < lrs[i_min]
    assert sug["min/10"] == pytest.approx(lrs[i_min] / 10)


def test_lr_find_on_a_range_where_the_loss_only_rises():
    """Starting far above the usable range (digits, SGD from lr 30): the loss never falls."""
    from trainlab.config import parse_config

    cfg = parse_config(
        {
            "data": {"name": "digits"},
            "model": {"name": "mlp", "hidden": [16]},
            "optim": {"name": "sgd", "lr": 0.1},
            "train": {"epochs": 1, "batch_size": 100},
        }
    )
    res = lr_find(cfg, start_lr=30.0, end_lr=3e4, num_steps=20, check_every=5, device="cpu")
    sm = res.smoothed[0]
    assert min(range(len(sm)), key=lambda i: sm[i] if math.isfinite(sm[i]) else math.inf) == 0
    assert res.suggestions[0] == {"steep": None, "min/10": None}
    assert res.stop_reasons[0] != "reached end_lr"


def _sweep(train_loss, val_loss):
    from trainlab.optim.lr_find import LRSweepResult

    return LRSweepResult([1e-3, 1e-2, 1e-1], train_loss, val_loss, None)


def test_lr_sweep_result_when_every_model_diverged_or_there_is_no_validation_split(tmp_path):
    """All diverged: no best LR (it named the first LR) and the plot draws (it raised on a log
    axis with no finite value). No validation split: the best LR comes from the training loss
    (it named the first LR, whose validation loss was NaN like all the others)."""
    inf, nan = math.inf, math.nan
    dead = _sweep([inf, inf, inf], [inf, inf, inf])
    assert dead.best_lr is None and dead.best_metric is None
    assert dead.diverged == [1e-3, 1e-2, 1e-1]
    dead.plot().savefig(tmp_path / "dead.png")
    noval = _sweep([2.0, 0.5, inf], [nan, nan, inf])
    assert noval.best_metric == "train_loss" and noval.best_lr == 1e-2
    noval.plot().savefig(tmp_path / "noval.png")
    ok = _sweep([2.0, 0.5, inf], [2.1, 0.7, inf])
    assert ok.best_metric == "val_loss" and ok.best_lr == 1e-2 and ok.diverged == [1e-1]
    fig = ok.plot()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "log" in ax.get_xlabel()
    assert "diverged (NaN/Inf)" in ax.get_legend_handles_labels()[1]


def test_plot_of_a_population_with_a_model_nan_from_its_first_step(tmp_path):
    """One model NaN/Inf from step 0 beside a healthy one: the y limits came from the NaN start
    (`ValueError: Axis limits cannot be NaN or Inf`); its stop is now marked, the rest drawn."""
    from trainlab.optim.lr_find import LRFindResult, suggest

    lrs = [10 ** (-4 + i / 4) for i in range(12)]
    good = smooth([2.3 - 0.1 * i for i in range(12)])
    res = LRFindResult(
        lrs=lrs,
        losses=[[math.nan], good],
        smoothed=[[math.nan], good],
        suggestions=[suggest(lrs[:1], [math.nan]), suggest(lrs, good)],
        stop_reasons=["loss NaN/Inf at lr 0.0001", "reached end_lr"],
        groups=["init.std=1e+25", "init.std=0.1"],
    )
    fig = res.plot()
    fig.savefig(tmp_path / "lr.png")
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert math.isfinite(lo) and math.isfinite(hi) and lo < min(good) and hi > good[0]
    assert any("NaN/Inf" in t for t in ax.get_legend_handles_labels()[1])
