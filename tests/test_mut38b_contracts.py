"""Mutation review mut38b: report/plots.py (group colors, save_figure, legends, dynamics /
curve / diagnostics figures). Figures are read back from their matplotlib artists (line data,
labels, titles, axis scales, legend texts); expected values come from matplotlib's own color
maps, numpy, hand computation and the module's docstrings, never from trainlab itself."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from conftest import DiagRun, StubRun


def _mean_line(ax, label):
    (line,) = [ln for ln in ax.lines if ln.get_label() == label and ln.get_marker() != "x"]
    return line


def _legend_texts(fig):
    (leg,) = fig.legends
    return [t.get_text() for t in leg.get_texts()]


# Kills plots.py:60 `n <= 10` -> `n < 10` and plots.py:62 `n <= 20` -> `n < 20`. Docstring:
# "tab10 up to 10 groups, tab20 up to 20, else a sampled turbo map" (colors from matplotlib).
@pytest.mark.parametrize("n, cmap", [(10, "tab10"), (11, "tab20"), (20, "tab20")])
def test_group_colors_use_tab10_up_to_10_groups_and_tab20_up_to_20(n, cmap):
    from trainlab.report.plots import group_colors

    groups = [f"g{i}" for i in range(n)]
    cols = group_colors(groups)
    assert list(cols) == groups
    for i, g in enumerate(groups):
        assert tuple(cols[g]) == tuple(colormaps[cmap](i))


def test_group_colors_beyond_20_groups_are_distinct_turbo_colors():
    from trainlab.report.plots import group_colors

    groups = [f"g{i}" for i in range(21)]
    cols = group_colors(groups)
    turbo = colormaps["turbo"](np.linspace(0, 1, 256))
    assert len({tuple(c) for c in cols.values()}) == 21
    for c in cols.values():  # each one a color of the turbo map
        assert np.abs(turbo - np.asarray(c)).sum(1).min() < 0.05


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _framed_figure():
    fig = Figure(figsize=(2.0, 1.0))
    ax = fig.add_axes((0, 0, 1, 1))  # the whole figure: the tight box is the figure's
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


# Kills plots.py:52 `_DPI = 100` -> 72. save_figure's default dpi is 100: a 2 x 1 inch figure
# with bbox_inches="tight" (pad 0.1 inch each side) is ~ 2.2 x 1.2 inch = ~220 x 120 pixels.
def test_save_figure_writes_png_at_100_dpi_by_default(tmp_path):
    from trainlab.report.plots import save_figure

    out = save_figure(_framed_figure(), tmp_path / "f.png")
    w, h = _png_size(out)
    assert 210 <= w <= 230 and 110 <= h <= 130, (w, h)


# Kills plots.py:88 `fmt = suffix or "png"` -> `"png"`. Docstring: "PNG, or the format its
# suffix names".
def test_save_figure_writes_the_format_the_suffix_names(tmp_path):
    from trainlab.report.plots import save_figure

    out = save_figure(_framed_figure(), tmp_path / "f.SVG")
    text = out.read_text()
    assert "<svg" in text and not out.read_bytes().startswith(b"\x89PNG")
    pdf = save_figure(_framed_figure(), tmp_path / "f.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


# Kills plots.py:93 `exclusive=exclusive` -> `exclusive=False`. Docstring: "exclusive: never
# replace a file at path (a UserError)"; without it the file is replaced.
def test_save_figure_exclusive_keeps_an_existing_file(tmp_path):
    from trainlab.errors import UserError
    from trainlab.report.plots import save_figure

    path = tmp_path / "f.png"
    path.write_bytes(b"mine")
    with pytest.raises(UserError):
        save_figure(_framed_figure(), path, exclusive=True)
    assert path.read_bytes() == b"mine"
    save_figure(_framed_figure(), path)
    assert path.read_bytes().startswith(b"\x89PNG")


# Kills plots.py:236 `len(handles) <= shown` -> `<` and the default `shown=20` -> 21.
# Docstring: "At most `shown` legend entries ... then a line `… N more groups`"; 20 by default
# (the module's 20-shown limit).
def test_legend_of_20_groups_lists_all_and_of_21_lists_20_and_a_note():
    from trainlab.report.plots import _legend_entries

    h20 = [Line2D([], []) for _ in range(20)]
    hs, ls = _legend_entries(h20, [f"g{i}" for i in range(20)])
    assert ls == [f"g{i}" for i in range(20)] and hs == h20
    h21 = [Line2D([], []) for _ in range(21)]
    hs, ls = _legend_entries(h21, [f"g{i}" for i in range(21)])
    assert len(hs) == len(ls) == 21
    assert ls[0] == "g0" and ls[19] == "g20"  # first and last included
    assert ls[-1] == "… 1 more group (20 of 21 shown)"  # (one group: singular)


# Kills plots.py:241 `every >= 2` -> `> 2` and plots.py:240 `round((n - 1) / ...)` ->
# `round(n / ...)`. 20 of n picked evenly over 0..n-1 (first and last): the spacing is
# (n - 1) / 19. n = 40: 39 / 19 = 2.05 -> "one in ~2"; n = 48: 47 / 19 = 2.47 -> "one in ~2".
# The picks are numpy's rounded linspace(0, n - 1, 20).
@pytest.mark.parametrize("n", [40, 48])
def test_legend_note_says_one_in_about_the_spacing_of_the_picks(n):
    from trainlab.report.plots import _legend_entries

    labels = [f"g{i}" for i in range(n)]
    _, ls = _legend_entries([Line2D([], []) for _ in range(n)], labels)
    picks = [int(i) for i in np.round(np.linspace(0, n - 1, 20))]
    assert ls[:-1] == [labels[i] for i in picks]
    assert ls[-1] == f"… {n - 20} more groups (one in ~2 shown)"


# Kills plots.py:224 LEGEND_WIDTH 45 -> 40, plots.py:228 break_long_words=False -> True and
# plots.py:219 plain_text without the `$` escape. LEGEND_WIDTH: labels wrap at 45 characters;
# a long word is not cut; `$` is drawn literally.
def test_legend_text_wraps_at_45_characters_and_keeps_words_and_dollars():
    from trainlab.report.plots import _legend_text, plain_text

    fits = "a" * 42 + " bb"  # exactly 45 characters: one line
    assert _legend_text(fits) == fits
    assert _legend_text("a" * 42 + " bbb") == "a" * 42 + "\nbbb"
    assert _legend_text("x" * 60) == "x" * 60
    assert plain_text("lr=$\\alpha$") == "lr=\\$\\alpha\\$"
    assert _legend_text("a$b") == "a\\$b"


def _dyn_run(lr_a, lr_b, gn):
    curves = {
        0: [{"epoch": e, "lr": lr_a[e - 1], "grad_norm": gn[0][e - 1]} for e in (1, 2, 3, 4)],
        1: [{"epoch": e, "lr": lr_b[e - 1], "grad_norm": gn[1][e - 1]} for e in (1, 2, 3, 4)],
    }
    results = [
        {"index": 0, "group": "g", "status": "done"},
        {"index": 1, "group": "g", "status": "done"},
    ]
    return StubRun(curves, results)


# Kills plots.py:199 `> 30` -> `> 3` and plots.py:191 the band drawn for `lr` instead of
# `grad_norm`, plots.py:210 the legend of one group. Docstring: "mean over seeds, band = ± std
# for the gradient norm. Log scale where values span >30×".
def test_dynamics_figure_log_scale_only_beyond_30x_and_band_only_for_grad_norm():
    from trainlab.report.plots import dynamics_figure

    lr = [0.1, 0.05, 0.02, 0.01]  # a 10x span: linear
    gn = [[1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 10.0]]  # 1..10: a 10x span: linear
    fig = dynamics_figure(_dyn_run(lr, lr, gn))
    lr_ax, gn_ax = fig.axes
    assert lr_ax.get_title() == "learning rate" and gn_ax.get_yscale() == "linear"
    assert lr_ax.get_yscale() == "linear"
    assert len(lr_ax.collections) == 0  # no band for the learning rate
    (band,) = gn_ax.collections
    vals = np.array(gn)
    top = band.get_paths()[0].vertices[:, 1].max()
    # mean + std, within the seeds' range (plots.seed_band)
    upper = np.minimum(vals.mean(0) + vals.std(0, ddof=1), vals.max(0))
    assert math.isclose(top, upper.max())
    np.testing.assert_allclose(_mean_line(gn_ax, "g").get_ydata(), vals.mean(0))
    assert fig.legends == []  # one group: no legend

    lr2 = [1.0, 0.1, 0.03, 0.01]  # a 100x span: log
    fig = dynamics_figure(_dyn_run(lr2, lr2, gn))
    assert fig.axes[0].get_yscale() == "log" and fig.axes[1].get_yscale() == "linear"


# Kills plots.py:330 `hi / lo > 30` -> `> 10`. Loss curves use a log axis (one for all splits)
# when the values span more than 30x: 20x stays linear, 40x is log.
@pytest.mark.parametrize("low, scale", [(0.05, "linear"), (0.025, "log")])
def test_curve_figure_loss_log_scale_beyond_30x(low, scale):
    from trainlab.report.plots import curve_figure

    curves = {
        0: [
            {"epoch": e, "train_loss": v, "val_loss": v}
            for e, v in ((1, 1.0), (2, 0.5), (3, 0.2), (4, low))
        ]
    }
    fig = curve_figure(StubRun(curves, [{"index": 0, "group": "g", "status": "done"}]), "loss")
    assert [ax.get_yscale() for ax in fig.axes] == [scale, scale]


# Kills plots.py:311 `== "nan"` -> `== "early_stopped"` and plots.py:314 `ok_i[-1]` ->
# `ok_i[0]`. Docstring: "an `x` marks where a model stopped for NaN/Inf" (its last finite
# value); an early-stopped model gets no x.
def test_curve_figure_marks_a_nan_stop_at_its_last_finite_value():
    from trainlab.report.plots import curve_figure

    nan = math.nan
    curves = {
        0: [
            {"epoch": 1, "val_loss": 2.0},
            {"epoch": 2, "val_loss": 1.5},
            {"epoch": 3, "val_loss": nan},
        ],
        1: [{"epoch": e, "val_loss": v} for e, v in ((1, 2.2), (2, 1.2), (3, 1.0), (4, 0.9))],
        2: [{"epoch": 1, "val_loss": 2.1}, {"epoch": 2, "val_loss": 1.1}],
    }
    results = [
        {"index": 0, "group": "g", "status": "nan"},
        {"index": 1, "group": "g", "status": "done"},
        {"index": 2, "group": "g", "status": "early_stopped"},
    ]
    (ax,) = curve_figure(StubRun(curves, results), "loss").axes
    xs = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(xs) == 1
    assert list(xs[0].get_xdata()) == [2.0] and list(xs[0].get_ydata()) == [1.5]


# Kills plots.py:290 `vals[:MAX_SEED_LINES]` -> `[:MAX_SEED_LINES - 1]` and plots.py:292
# `len(idxs) > 1` -> `>= 1`. Docstring: thin lines for up to MAX_SEED_LINES (20) individual
# seeds; the mean and band use every seed. A one-seed group is its mean: no thin line.
def test_curve_figure_draws_20_thin_seed_lines_and_none_for_a_single_seed():
    from trainlab.report.plots import MAX_SEED_LINES, curve_figure

    assert MAX_SEED_LINES == 20
    rng = np.random.default_rng(0)
    vals = rng.uniform(0.5, 1.5, size=(25, 3))
    curves = {
        i: [{"epoch": e + 1, "val_loss": float(vals[i, e])} for e in range(3)] for i in range(25)
    }
    results = [{"index": i, "group": "g", "status": "done"} for i in range(25)]
    (ax,) = curve_figure(StubRun(curves, results), "loss").axes
    from matplotlib.collections import LineCollection

    (thin,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(thin.get_segments()) == 20
    np.testing.assert_allclose(_mean_line(ax, "g").get_ydata(), vals.mean(0))

    one = {0: curves[0]}
    (ax,) = curve_figure(StubRun(one, results[:1]), "loss").axes
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]


def _diag_rec(model, layer, step, **stats):
    return {"model": model, "layer": layer, "step": step, **stats}


# Kills plots.py:40 MAX_DIAG_PANELS 12 -> 11 and plots.py:432 `len(hidden)` -> `len(shown)`.
# At most 12 groups get a panel, the rest are counted in the title.
def test_diagnostics_figure_shows_12_group_panels_and_counts_the_rest():
    from trainlab.report.plots import diagnostics_figure

    models = [{"index": i, "group": f"g{i}"} for i in range(13)]
    recs = [_diag_rec(i, "l0", s, act_std=1.0 + s) for i in range(13) for s in (0, 1, 2)]
    fig = diagnostics_figure(DiagRun(models, recs), "act_std")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [f"g{i}" for i in range(12)]
    assert (
        fig._suptitle.get_text()
        == "activation std per layer (mean over seeds); 1 more group not shown"
    )
    fig = diagnostics_figure(DiagRun(models[:12], recs[: 12 * 3]), "act_std")
    assert "not shown" not in fig._suptitle.get_text()


# Kills plots.py:404 `mean > 0` -> `mean >= 0` and plots.py:358 update_ratio left off the
# log scale. Docstring: "Log scale for act_std, grad_norm and update_ratio; a mean of exactly 0
# there ... is marked ▼ at the bottom edge. Zeros count in the means."
def test_diagnostics_figure_marks_a_zero_mean_on_a_log_axis():
    from trainlab.report.plots import diagnostics_figure

    models = [{"index": 0, "group": "g"}, {"index": 1, "group": "g"}]
    recs = []
    for s, (a, b) in enumerate([(1e-3, 3e-3), (0.0, 0.0), (2e-3, 0.0)]):
        recs += [_diag_rec(0, "l0", s, update_ratio=a), _diag_rec(1, "l0", s, update_ratio=b)]
    fig = diagnostics_figure(DiagRun(models, recs), "update_ratio")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    (line,) = [ln for ln in ax.lines if ln.get_marker() not in ("v", "^")]
    assert list(line.get_xdata()) == [0.0, 2.0]
    np.testing.assert_allclose(line.get_ydata(), [2e-3, 1e-3])  # (2e-3 + 0) / 2: zero counts
    (zero,) = [ln for ln in ax.lines if ln.get_marker() == "v"]
    assert list(zero.get_xdata()) == [1.0]
    assert fig._suptitle.get_text().endswith("; ▼ = 0")


# Kills plots.py:443 `nl > 12` -> `>= 12` and the middle entries of plots.py:444. The layer
# legend lists every layer up to 12; beyond, "first, a few in the middle, last": for 13 layers
# indices 0, 13 // 3 = 4, 2 * 13 // 3 = 8 and 12.
def test_diagnostics_layer_legend_lists_12_layers_and_thins_13():
    from trainlab.report.plots import diagnostics_figure

    models = [{"index": 0, "group": "g"}]
    for nl, expected in ((12, list(range(12))), (13, [0, 4, 8, 12])):
        recs = [_diag_rec(0, f"L{k}", s, act_std=1.0) for k in range(nl) for s in (0, 1)]
        fig = diagnostics_figure(DiagRun(models, recs), "act_std")
        assert _legend_texts(fig) == [f"L{k}" for k in expected]


# Kills plots.py:330 `lo > 0` -> `lo >= 0` and plots.py:199 `v.min() > 0` -> `>= 0`: a
# value of 0 has no place on a log axis, so a loss / learning rate that reaches 0 (a perfect
# fit, a warm-up from 0) keeps a linear axis however wide the span.
def test_a_zero_loss_or_learning_rate_keeps_a_linear_axis():
    from trainlab.report.plots import curve_figure, dynamics_figure

    curves = {0: [{"epoch": e, "val_loss": v} for e, v in ((1, 2.0), (2, 0.5), (3, 0.0))]}
    res = [{"index": 0, "group": "g", "status": "done"}]
    (ax,) = curve_figure(StubRun(curves, res), "loss").axes
    assert ax.get_yscale() == "linear"
    curves = {0: [{"epoch": e, "lr": v} for e, v in ((1, 0.0), (2, 1.0), (3, 0.5))]}
    (ax,) = dynamics_figure(StubRun(curves, res)).axes
    assert ax.get_yscale() == "linear"


# Kills plots.py:153 the loop over metrics of models population.json does not list skipped.
# _curve_groups: such a model is its own group "model <index>", after the listed groups.
def test_curves_of_a_model_population_json_does_not_list_are_drawn_as_model_n():
    from trainlab.report.plots import curve_figure

    curves = {
        0: [{"epoch": e, "val_loss": 1.0 / e} for e in (1, 2, 3)],
        5: [{"epoch": e, "val_loss": 2.0 / e} for e in (1, 2, 3)],
    }
    res = [{"index": 0, "group": "a", "status": "done"}]
    fig = curve_figure(StubRun(curves, res), "loss")
    (ax,) = fig.axes
    np.testing.assert_allclose(_mean_line(ax, "model 5").get_ydata(), [2.0, 1.0, 2.0 / 3])
    assert _legend_texts(fig) == ["a", "model 5"]


# Kills plots.py:367 the group of a record: "model <m>" for a model the run does not list,
# "all models" for a run listing none; and plots.py:424 the panel title without plain_text
# (a `$` in a group label is drawn literally).
def test_diagnostics_panels_of_unlisted_models_and_literal_titles():
    from trainlab.report.plots import diagnostics_figure

    recs = [_diag_rec(m, "l0", s, grad_norm=1.0) for m in (0, 3) for s in (0, 1)]
    fig = diagnostics_figure(DiagRun([{"index": 0, "group": "lr=$1$"}], recs), "grad_norm")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["lr=\\$1\\$", "model 3"]
    fig = diagnostics_figure(DiagRun([], recs), "grad_norm")
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["all models"]


# Kills plots.py:365 a NaN/Inf seed value skipped (`continue`) instead of leaving its step
# without a mean. Docstring: "A step where a seed's value is NaN/Inf has no mean (... never
# averaging it away): it is marked ▲ at the top edge."
def test_diagnostics_step_with_a_nan_seed_has_no_mean_and_a_triangle():
    from trainlab.report.plots import diagnostics_figure

    models = [{"index": 0, "group": "g"}, {"index": 1, "group": "g"}]
    recs = []
    for s, (a, b) in enumerate([(1.0, 3.0), (math.nan, 2.0), (math.inf, 4.0), (0.5, 1.5)]):
        recs += [_diag_rec(0, "l0", s, dead_fraction=a), _diag_rec(1, "l0", s, dead_fraction=b)]
    fig = diagnostics_figure(DiagRun(models, recs), "dead_fraction")
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    (line,) = [ln for ln in ax.lines if ln.get_marker() != "^"]
    assert list(line.get_xdata()) == [0.0, 3.0]
    np.testing.assert_allclose(line.get_ydata(), [2.0, 1.0])
    (bad,) = [ln for ln in ax.lines if ln.get_marker() == "^"]
    assert list(bad.get_xdata()) == [1.0, 2.0]
    assert (
        fig._suptitle.get_text()
        == "dead-unit fraction per layer (mean over seeds); ▲ = NaN/Inf in a seed"
    )


# Kills plots.py:274 the y label / titles of an accuracy figure. Docstring: curves of
# "loss" or "acc" by split (train, val, test); the panels say "accuracy".
def test_accuracy_figure_titles_and_label():
    from trainlab.report.plots import curve_figure

    curves = {0: [{"epoch": e, "train_acc": 0.5, "val_acc": 0.4, "test_acc": 0.3} for e in (1, 2)]}
    fig = curve_figure(StubRun(curves, [{"index": 0, "group": "default"}]), "acc")
    assert [ax.get_title() for ax in fig.axes] == [
        "train accuracy",
        "val accuracy",
        "test accuracy",
    ]
    assert fig.axes[0].get_ylabel() == "accuracy"
    assert fig.legends == []  # one group without overrides: no legend


# Kills plots.py:140 `status == "early_stopped"` -> `status != "nan"`. Only an early-stopped
# model is held at its final value (curve_figure's docstring); a model a killed run left
# "incomplete" has no value after its last epoch, so the later means are the other seed's.
def test_an_incomplete_model_is_not_held_in_the_curve_mean():
    from trainlab.report.plots import curve_figure

    curves = {
        0: [{"epoch": 1, "val_loss": 1.0}, {"epoch": 2, "val_loss": 0.5}],
        1: [{"epoch": e, "val_loss": v} for e, v in ((1, 2.0), (2, 1.5), (3, 1.0), (4, 0.75))],
    }
    results = [
        {"index": 0, "group": "g", "status": "incomplete"},
        {"index": 1, "group": "g", "status": "ok"},
    ]
    (ax,) = curve_figure(StubRun(curves, results), "loss").axes
    np.testing.assert_allclose(_mean_line(ax, "g").get_ydata(), [1.5, 1.0, 1.0, 0.75])


# Kills plots.py:140 `0 <= j` -> `0 < j`. A model that early-stopped at its first epoch
# (column 0) is held there too: mean at epochs 2, 3 = (0.8 + 1.5) / 2, (0.8 + 1.0) / 2.
def test_a_model_early_stopped_at_its_first_epoch_is_held():
    from trainlab.report.plots import curve_figure

    curves = {
        0: [{"epoch": 1, "val_loss": 0.8}],
        1: [{"epoch": e, "val_loss": v} for e, v in ((1, 2.0), (2, 1.5), (3, 1.0))],
    }
    results = [
        {"index": 0, "group": "g", "status": "early_stopped"},
        {"index": 1, "group": "g", "status": "ok"},
    ]
    (ax,) = curve_figure(StubRun(curves, results), "loss").axes
    np.testing.assert_allclose(_mean_line(ax, "g").get_ydata(), [1.4, 1.15, 0.9])


# Kills plots.py:334 the legend of a single group dropped when that group has overrides:
# only the default group (no overrides, "default") goes without a legend; one variant is
# named, so the reader knows which overrides the curves are of.
def test_a_single_group_with_overrides_is_named_in_a_legend():
    from trainlab.report.plots import curve_figure

    curves = {i: [{"epoch": e, "val_loss": (i + 1.0) / e} for e in (1, 2, 3)] for i in (0, 1)}
    res = [{"index": i, "group": "optim.lr=0.1", "status": "ok"} for i in (0, 1)]
    assert _legend_texts(curve_figure(StubRun(curves, res), "loss")) == ["optim.lr=0.1"]
