"""Scale review (scale17): how the report behaves on sweeps with many override groups."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.axes import Axes

from trainlab.report.plots import curve_figure, dynamics_figure
from trainlab.report.rundata import RunData


def _sweep(groups: int, seeds: int = 2, epochs: int = 3) -> RunData:
    """A finished-looking run of ``groups`` override groups of ``seeds`` models each."""
    models, metrics = [], []
    for i in range(groups * seeds):
        g = i // seeds
        models.append({"index": i, "seed": i % seeds, "overrides": {"optim.lr": g},
                       "group": f"optim.lr={g}"})  # fmt: skip
        for e in range(1, epochs + 1):
            v = 1.0 / (1 + e + 0.01 * i)
            row = {"model": i, "epoch": e, "step": 10 * e, "lr": 0.1, "grad_norm": v}
            row.update({f"{s}_{m}": v for s in ("train", "val", "test") for m in ("loss", "acc")})
            metrics.append(row)
    return RunData(path=Path("."), population={"models": models}, metrics=metrics)


def _autoscales(monkeypatch: pytest.MonkeyPatch, build) -> int:
    """How many times building a figure rescales an axes (each call walks every artist the
    axes already holds, so a rescale per group costs O(groups²) in all)."""
    calls = [0]
    orig = Axes.autoscale_view

    def counted(self, *a, **k):
        if self.get_autoscalex_on() or self.get_autoscaley_on():
            calls[0] += 1
        return orig(self, *a, **k)

    monkeypatch.setattr(Axes, "autoscale_view", counted)
    build()
    return calls[0]


@pytest.mark.parametrize("figure", ["loss", "dynamics"])
def test_report_curve_figures_do_not_rescale_once_per_group(monkeypatch, figure):
    # Wrong: plots.curve_figure / dynamics_figure add a LineCollection and a fill_between band
    # per group; each add_collection forces the lazy autoscale, which walks all artists so far,
    # so the figure costs O(groups^2) (measured: 400 groups 7 s, 1000 groups 34 s per figure;
    # a 1000-group sweep's `trainlab report` spends minutes there). Right: rescale once per axes
    # (autoscale off while adding, or add_collection(autolim=False) + update_datalim).
    def build(g):
        run = _sweep(g)
        return lambda: curve_figure(run, "loss") if figure == "loss" else dynamics_figure(run)

    few = _autoscales(monkeypatch, build(5))
    many = _autoscales(monkeypatch, build(20))
    assert many <= few + 3, f"{few} rescales for 5 groups, {many} for 20: one per group"
