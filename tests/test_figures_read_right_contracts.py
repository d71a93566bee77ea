"""Figures and verdict rows read as their numbers say (found by a newcomer's review of the sick
examples and a teacher's review of the reports): a flat layer profile looks flat, the
update-ratio panel shows the verdict's bounds, a fraction of units spans 0..1, a histogram too
coarse for its layer says so, seed bands stay within the seeds, a scheme keeps its colour, a
constant lr reads flat, every column of panels has its step axis, and an all-ok verdict row
quotes the model furthest from healthy."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import DiagRun, StubRun
from trainlab.diagnostics import Thresholds, layer_profile
from trainlab.report.plots import diagnostics_figure
from trainlab.report.rundata import DEFAULT_GROUP


def _profile(stds: list[float], ratio: float = 1e-3) -> list[dict]:
    return [
        {"model": 0, "step": s, "layer": f"l{i}", "order": i, "kind": "linear",
         "act_std": sd, "out_grad_norm": sd, "update_ratio": None if s == 0 else ratio}
        for s in (0, 10) for i, sd in enumerate(stds)
    ]  # fmt: skip


def test_a_profile_that_drifts_25_percent_spans_two_decades_not_the_drift():
    """The cured vanishing_tanh run's std went 0.23 -> 0.17 over 12 layers; autoscaled, the log
    axis spanned 0.17-0.23 and the drift looked as steep as the sick run's five decades."""
    fig = layer_profile(_profile([0.23, 0.21, 0.19, 0.17]))
    for ax in fig.axes[:2]:
        lo, hi = ax.get_ylim()
        assert hi / lo == pytest.approx(100.0) and lo < 0.17 and hi > 0.23
    sick = layer_profile(_profile([3.7e-2, 5.8e-3, 9.7e-4, 1.6e-4, 2.6e-5, 3.8e-6]))
    lo, hi = sick.axes[0].get_ylim()
    assert lo <= 3.8e-6 and hi >= 3.7e-2  # a real collapse keeps its own range


def test_the_update_ratio_panel_shows_the_verdicts_bounds_and_the_healthy_ratio():
    ur_ax = layer_profile(_profile([1.0, 1.0], ratio=2e-4)).axes[2]
    refs = {float(ln.get_ydata()[0]) for ln in ur_ax.lines if not ln.get_label().startswith("step")}
    t = Thresholds()
    assert {t.update_low, 1e-3, t.update_high} <= refs
    texts = [x.get_text().strip() for x in ur_ax.texts]
    assert "~1e-3 healthy" in texts and "verdict bounds" in texts
    assert "input → output" in layer_profile(_profile([1.0])).get_supxlabel()


def _frac_records(stat: str, value: float) -> list[dict]:
    return [{"model": m, "step": s, "layer": "act1", stat: value} for m in (0, 1) for s in (0, 10)]


@pytest.mark.parametrize("stat", ["dead_fraction", "saturated_fraction"])
def test_a_fraction_of_units_is_drawn_on_its_whole_range(stat):
    """All-zero saturation was drawn on -0.04..0.04; a fraction's axis is 0..1."""
    models = [{"index": 0, "group": None}, {"index": 1, "group": None}]
    fig = diagnostics_figure(DiagRun(models, _frac_records(stat, 0.0)), stat)
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_ylim() == pytest.approx((-0.02, 1.02))
    assert ax.get_title() == ""  # one group of plain seeds: no "default" panel title
    line = next(ln for ln in ax.lines if ln.get_label() == "act1")
    np.testing.assert_allclose(line.get_ydata(), [0.0, 0.0])


def test_panels_of_override_groups_keep_their_titles():
    models = [{"index": 0, "group": "optim.lr=0.1"}, {"index": 1, "group": None}]
    fig = diagnostics_figure(DiagRun(models, _frac_records("dead_fraction", 0.5)), "dead_fraction")
    titles = [a.get_title() for a in fig.axes if a.get_visible()]
    assert titles == ["optim.lr=0.1", DEFAULT_GROUP]


def _hist(layer: str, order: int, sd: float) -> dict:
    edges = [round(-3.0 + 0.1 * i, 10) for i in range(61)]  # watch's default 60 bins of 0.1
    counts = [0] * 60
    counts[29] = counts[30] = 50  # every value in the two bins around 0
    return {"model": 0, "step": 0, "layer": layer, "order": order, "kind": "tanh",
            "act_mean": 0.0, "act_std": sd, "hist": counts, "hist_under": 0, "hist_over": 0,
            "hist_edges": edges}  # fmt: skip


def test_a_histogram_too_narrow_for_its_bins_says_so():
    """vanishing_tanh's layers (σ 0.037 down to 4e-6) were twelve identical spikes at 0 on the
    fixed bins of width 0.1, with nothing saying the bins cannot show their spread."""
    from trainlab.diagnostics import histogram_grid

    fig = histogram_grid([_hist("act1", 0, 0.03), _hist("act2", 1, 0.06)])
    narrow, wide = [ax for ax in fig.axes if ax.axison]
    assert [t.get_text() for t in narrow.texts] == ["σ below half\na bin (0.1):\nsee σ above"]
    assert len(wide.texts) == 0


def test_a_seed_band_stays_within_the_seeds_so_a_log_axis_keeps_their_scale():
    """preprocessing's SGD 'standardized' cell: final losses 0.0053, 0.0366, 0.0057 (mean
    0.0159 ± 0.0180). Its band reached below 0 and the log axis ran down to 1e-12."""
    from trainlab.report.plots import curve_figure, seed_band

    finals = [0.0053, 0.0366, 0.0057]
    vals = np.array([[2.3, 0.9, f] for f in finals])  # (seeds, epochs)
    mean, std = vals.mean(0), vals.std(0, ddof=1)
    lo, hi = seed_band(vals, mean, std)
    assert lo[2] == 0.0053 and hi[2] == pytest.approx(mean[2] + std[2])
    assert np.all(lo <= mean) and np.all(hi >= mean) and np.all(lo >= vals.min(0))
    curves = {i: [{"epoch": e + 1, "train_loss": float(v)} for e, v in enumerate(row)]
              for i, row in enumerate(vals)}  # fmt: skip
    results = [{"index": i, "group": "g", "status": "done"} for i in range(3)]
    (ax,) = curve_figure(StubRun(curves, results), "loss").axes
    from matplotlib.collections import LineCollection

    (band,) = [c for c in ax.collections if not isinstance(c, LineCollection)]
    ys = np.concatenate([path.vertices[:, 1] for path in band.get_paths()])
    assert ax.get_yscale() == "log" and ys.min() == pytest.approx(0.0053)


def test_a_studys_curve_band_stays_within_its_models():
    from trainlab.studies.cells import curve_band, curves

    cell = {"metrics": [{"model": m, "epoch": 1, "train_loss": v}
                        for m, v in enumerate([0.0053, 0.0366, 0.0057])]}  # fmt: skip
    _, (mu,), (sd,) = curves(cell, [0, 1, 2])
    (lo,), (hi,) = curve_band(cell, [0, 1, 2])
    assert mu - sd < 0 < lo == 0.0053 and hi == pytest.approx(mu + sd)


def test_the_init_studys_bars_give_a_scheme_one_color_in_every_panel():
    """final_test_acc.png gave colors by position in each panel: blue was 'zeros' at depth 4 and
    'Xavier' at depth 30. The chance line at 0.1 is labelled."""
    from matplotlib.colors import to_hex

    from trainlab.studies import init_study

    def cell(name, schemes):
        models = [{"scheme": s, "status": "ok", "final": {"test_acc": 0.5}} for s in schemes]
        return {"name": name, "schemes": schemes, "models": models}

    names = list(init_study.SCHEMES)
    xavier = next(s for s in names if s.startswith("Xavier"))
    fig = init_study._bar_figure([cell("depth4", names), cell("depth30", [xavier, names[-1]])])
    colors = [{s: to_hex(p.get_facecolor()) for s, p in zip(c, ax.patches, strict=True)}
              for c, ax in zip([names, [xavier, names[-1]]], fig.axes, strict=True)]  # fmt: skip
    assert colors[0][xavier] == colors[1][xavier] and colors[0][names[-1]] == colors[1][names[-1]]
    assert all("chance" in [t.get_text() for t in ax.texts] for ax in fig.axes)


def test_an_ok_share_row_quotes_the_model_with_the_largest_share():
    """lr_sweep_sgd --diagnose: 'dead_relu ok (0/25) model 0: at most 1%' while another model's
    layer had 2.2% dead: the row's 'at most' must hold for every model it speaks for."""
    from trainlab.diagnostics import Finding
    from trainlab.diagnostics.verdict import verdict_rows

    fs = [
        Finding("dead_relu", "ok", m, f"at most {v:.0%} (dead ReLU units)", 50, None, v)
        for m, v in enumerate([0.01, 0.022, 0.0])
    ]
    (row,) = verdict_rows(fs)
    assert row["models"] == "0/3" and row["detail"] == "model 1: at most 2% (dead ReLU units)"


def test_a_constant_learning_rate_reads_flat_from_zero():
    """curves_dynamics.png drew a constant lr 0.001 on a 0.00096-0.00104 axis, as if it moved."""
    from trainlab.report.plots import dynamics_figure

    curves = {
        m: [{"epoch": e, "lr": 1e-3, "grad_norm": g} for e, g in ((1, 2.0), (2, 1.5), (3, 1.2))]
        for m in (0, 1)
    }
    results = [{"index": m, "group": "g", "status": "done"} for m in (0, 1)]
    lr_ax, gn_ax = dynamics_figure(StubRun(curves, results)).axes
    assert lr_ax.get_ylim()[0] == 0 and lr_ax.get_ylim()[1] > 1e-3
    assert gn_ax.get_ylim()[0] == 0
    assert [lr_ax.get_ylabel(), gn_ax.get_ylabel()] == [lr_ax.get_title(), gn_ax.get_title()]


def test_a_panel_above_an_empty_slot_keeps_its_step_axis():
    """Five groups in a 2x4 grid: the three top-row panels above empty slots had no x tick labels
    (shared x axes label only the bottom row)."""
    models = [{"index": m, "group": f"optim.lr={m}"} for m in range(5)]
    records = [{"model": m, "step": s, "layer": "act1", "act_std": 1.0 + s}
               for m in range(5) for s in (0, 50)]  # fmt: skip
    fig = diagnostics_figure(DiagRun(models, records), "act_std")
    shown = [a for a in fig.axes if a.get_visible()]
    assert len(shown) == 5
    labelled = [a for a in shown if a.get_xlabel() == "step"]
    assert len(labelled) == 4  # one per column
    for ax in labelled:
        fig.canvas.draw()
        assert any(t.get_visible() and t.get_text() for t in ax.get_xticklabels())


def test_an_ok_ratio_row_quotes_the_model_furthest_from_one():
    """'activations ok: model 0: largest std change vs the first layer: 4.4×' must not stand
    for a population where another model changed 0.05× (further from 1, within bounds)."""
    from trainlab.diagnostics import Finding
    from trainlab.diagnostics.verdict import verdict_rows

    msg = "largest std change vs the first layer: {:.2g}×"
    fs = [Finding("activations", "ok", m, msg.format(v), 50, None, v)
          for m, v in enumerate([4.4, 0.05, 1.0])]  # fmt: skip
    fs.append(Finding("gradients", "ok", 0, "ratio = 2", 50, None, 2.0))
    fs.append(Finding("gradients", "ok", 1, "ratio = 0.3", 50, None, 0.3))
    rows = {r["check"]: r for r in verdict_rows(fs)}
    assert rows["activations"]["detail"] == "model 1: " + msg.format(0.05)
    assert rows["gradients"]["detail"] == "model 1: ratio = 0.3"
