"""Mutation review mut36u: diagnostics/figures.py (histogram_grid, layer_profile) and
report/plots.py (_held: early-stopped seeds carried forward). Figures are read back from their
matplotlib artists (StepPatch heights, Line2D data, titles) and compared with numbers computed
by hand / numpy from the records given; expected behaviour comes from the docstrings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import StubRun
from trainlab.diagnostics.figures import histogram_grid, layer_profile

EDGES = [0.0, 1.0, 2.0, 3.0, 4.0]


def _hist_rec(step, layer, kind, order, counts, *, over=0, under=0, mean=0.5, std=1.25):
    return {
        "model": 0, "step": step, "layer": layer, "kind": kind, "order": order,
        "hist": list(counts), "hist_edges": list(EDGES), "hist_under": under, "hist_over": over,
        "act_mean": mean, "act_std": std, "nonfinite": False,
    }  # fmt: skip


def _records():
    """Steps 0, 5, 10; two linear and two activation layers, listed out of forward order."""
    out = []
    for s in (0, 5, 10):
        out += [
            # 99 in the bins, 1 above: exactly 1% outside -> the note is shown
            _hist_rec(s, "act2", "tanh", 3, [10, 20, 30, 39], over=1, mean=-0.25, std=0.75),
            # 991 in the bins, 9 above: 0.9% outside -> no note
            _hist_rec(s, "act1", "relu", 1, [100, 200, 300, 391], over=9),
            _hist_rec(s, "lin1", "linear", 0, [1, 1, 1, 1]),
            _hist_rec(s, "lin2", "linear", 2, [1, 1, 1, 1]),
        ]
    return out


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _heights(ax):
    (patch,) = ax.patches
    return np.asarray(patch.get_data().values, dtype=float)


# Kills figures.py:52 default steps `all_steps[-1]` -> `all_steps[1]` (the middle step drawn
# instead of the last), figures.py:60 `any(...)` -> `all(...)` (linear layers drawn although
# activation layers exist), figures.py:25 _ordered dropped (columns in listing order, not
# forward order), and figures.py:77 `total` without hist_over (fractions of the bins only).
# Docstring: rows = the first and the last sampled step, columns = activation layers in
# forward order, each bar = count / all values (hist_over included): act1's [100, 200, 300,
# 391] of 1000 values.
def test_histogram_grid_draws_first_and_last_step_activation_layers_in_forward_order():
    fig = histogram_grid(_records())
    axes = [a for a in fig.axes if a.axison]
    assert len(axes) == 2 * 2
    grid = np.array(fig.axes[:4]).reshape(2, 2)
    assert grid[0][0].get_ylabel() == "step 0" and grid[1][0].get_ylabel() == "step 10"
    for row in grid:
        assert row[0].get_title().startswith("act1 (relu)\n")
        assert row[1].get_title().startswith("act2 (tanh)\n")
    np.testing.assert_allclose(_heights(grid[0][0]), np.array([100, 200, 300, 391]) / 1000)
    np.testing.assert_allclose(_heights(grid[1][1]), np.array([10, 20, 30, 39]) / 100)
    # the title: layer (kind), then mean and std as %.2g
    assert grid[0][1].get_title() == "act2 (tanh)\nμ=-0.25 σ=0.75"
    assert grid[0][0].get_title() == f"act1 (relu)\nμ={0.5:.2g} σ={1.25:.2g}"


# Kills figures.py:90 `>= 0.01 * total` -> `> 0.01 * total` and -> `>= 0.1 * total`, and
# figures.py:77 total without hist_over. Docstring: "a note gives the share of values outside
# the bins when it is 1% or more": 1 of 100 (exactly 1%) has the note, 9 of 1000 (0.9%) none.
def test_histogram_outside_note_appears_from_exactly_one_percent():
    fig = histogram_grid(_records(), steps=[5])
    act1, act2 = fig.axes[:2]
    assert act1.get_title().startswith("act1") and act2.get_title().startswith("act2")
    assert _texts(act1) == []
    (note,) = _texts(act2)
    assert note == "1% of values\noutside [0, 4]"


# Kills figures.py:60 `any` -> `all` on the fallback side too: with no activation layer every
# layer is drawn (docstring: "falls back to every layer if there are none"), in forward order.
def test_histogram_grid_falls_back_to_every_layer_without_activation_layers():
    recs = [r for r in _records() if r["kind"] == "linear"]
    fig = histogram_grid(recs, steps=[0])
    titles = [a.get_title().split(" ")[0] for a in fig.axes if a.axison]
    assert titles == ["lin1", "lin2"]
    both = histogram_grid(_records(), steps=[0], activations_only=False)
    titles = [a.get_title().split(" ")[0] for a in both.axes if a.axison]
    assert titles == ["lin1", "act1", "lin2", "act2"]


# Kills figures.py:34 default max_layers 10 -> 12, figures.py:63 `v[:max_layers]` ->
# `v[:max_layers - 1]`, figures.py:105 `shown > max_layers` -> `>=`. The signature's default
# is 10 layers; 12 activation layers -> 10 columns and the suptitle says "first 10 of 12";
# exactly 10 -> all of them and no such remark.
@pytest.mark.parametrize("n", [10, 12])
def test_histogram_grid_shows_at_most_max_layers_columns(n):
    recs = [_hist_rec(0, f"a{i}", "relu", i, [1, 1, 1, 1]) for i in range(n)]
    fig = histogram_grid(recs)
    drawn = [a.get_title().split(" ")[0] for a in fig.axes if a.axison]
    assert drawn == [f"a{i}" for i in range(min(n, 10))]
    title = fig._suptitle.get_text()
    if n > 10:
        assert title == "activation histograms per layer (model 0, first 10 of 12 layers)"
    else:
        assert title == "activation histograms per layer (model 0)"


def _prof(step, layer, order, *, act_std, ogn=None, gn=None, ur=None, nonfinite=False):
    return {
        "model": 0, "step": step, "layer": layer, "order": order, "kind": "linear",
        "act_std": act_std, "out_grad_norm": ogn, "grad_norm": gn, "update_ratio": ur,
        "nonfinite": nonfinite, "weight_norm": 1.0,
    }  # fmt: skip


def _profile_records(with_out_grad=True):
    out = []
    vals = {0: (1.0, 0.5, 0.25), 5: (9.0, 9.0, 9.0), 10: (2.0, 0.2, 0.02)}
    for s, stds in vals.items():
        for i, (name, sd) in enumerate(zip(("c", "a", "b"), stds, strict=True)):
            out.append(
                _prof(
                    s,
                    name,
                    i,
                    act_std=sd,
                    ogn=(10.0**-i * (s + 1)) if with_out_grad else None,
                    gn=3.0 * (i + 1) + s,
                    ur=None if s == 0 else 1e-3 * (i + 1),
                )  # fmt: skip
            )
    # a step interrupted in its forward (Ctrl-C): weight norms only, no statistics
    out += [{"model": 0, "step": 15, "layer": n, "order": i, "weight_norm": 1.0}
            for i, n in enumerate(("c", "a", "b"))]  # fmt: skip
    return out


def _data_lines(ax):
    return [ln for ln in ax.lines if ln.get_label().startswith("step ")]


# Kills figures.py:143 steps `{all_steps[0], all_steps[-1]}` -> `{all_steps[-1]}`,
# figures.py:141 `done = rows` (the interrupted step 15 taken as the last one), figures.py:191
# set_yscale("log") dropped, and figures.py:196 the 1e-3 reference line moved. Docstring:
# activation std / ‖∂L/∂y‖ / update ratio at the first and last sampled step, log scales,
# layers in forward order (c, a, b by "order").
def test_layer_profile_plots_first_and_last_completed_step_on_log_axes():
    recs = _profile_records()
    fig = layer_profile(recs)
    std_ax, grad_ax, ur_ax = fig.axes[:3]
    assert [ax.get_title() for ax in (std_ax, grad_ax, ur_ax)] == [
        "activation std", "‖∂L/∂y‖", "‖Δθ‖/‖θ‖",
    ]  # fmt: skip
    assert all(ax.get_yscale() == "log" for ax in (std_ax, grad_ax, ur_ax))
    assert [t.get_text() for t in std_ax.get_xticklabels()] == ["c", "a", "b"]
    first, last = _data_lines(std_ax)
    assert (first.get_label(), last.get_label()) == ("step 0", "step 10")
    np.testing.assert_allclose(first.get_ydata(), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(last.get_ydata(), [2.0, 0.2, 0.02])
    g0, g10 = _data_lines(grad_ax)
    np.testing.assert_allclose(g0.get_ydata(), [1.0, 0.1, 0.01])
    np.testing.assert_allclose(g10.get_ydata(), [11.0, 1.1, 0.11])
    # update ratio: None at step 0 (no optimizer step yet) -> only step 10 is a line
    (u10,) = _data_lines(ur_ax)
    assert u10.get_label() == "step 10"
    np.testing.assert_allclose(u10.get_ydata(), [1e-3, 2e-3, 3e-3])
    refs = [ln for ln in ur_ax.lines if not ln.get_label().startswith("step ")]
    assert any(np.allclose(ln.get_ydata(), 1e-3) for ln in refs)


# Kills figures.py:229 _recorded without `bool(r.get("nonfinite"))`: a None statistic of a
# finite step (update_ratio before any optimizer step) would be drawn as an NaN/Inf "x" at the
# bottom edge. Docstring: "x" is for NaN/Inf only; NaN/Inf is written as null *with* the
# record's nonfinite flag. No "x" and no bottom-edge note here; with a nonfinite record there
# is one.
def test_layer_profile_marks_only_nonfinite_values_with_an_x():
    fig = layer_profile(_profile_records())
    ur_ax = fig.axes[2]
    assert not [ln for ln in ur_ax.lines if ln.get_marker() == "x"]
    assert ur_ax.get_xlabel() == ""
    recs = _profile_records()
    for r in recs:
        if r["step"] == 10 and r["layer"] == "b":
            r.update(act_std=None, nonfinite=True)
    std_ax = layer_profile(recs).axes[0]
    (x,) = [ln for ln in std_ax.lines if ln.get_marker() == "x"]
    assert list(x.get_xdata()) == [2]  # layer b, third in forward order
    assert std_ax.get_xlabel() == "(at the bottom edge: × = NaN/Inf)"


# Kills figures.py:161 the grad_norm fallback taken always (or never). Docstring: the output-
# gradient norm ‖∂L/∂y‖ "(or parameter-gradient norm)" where there is none.
def test_layer_profile_falls_back_to_parameter_gradient_norm():
    fig = layer_profile(_profile_records(with_out_grad=False))
    grad_ax = fig.axes[1]
    assert grad_ax.get_title() == "‖∂L/∂θ‖"
    g0, g10 = _data_lines(grad_ax)
    np.testing.assert_allclose(g0.get_ydata(), [3.0, 6.0, 9.0])
    np.testing.assert_allclose(g10.get_ydata(), [13.0, 16.0, 19.0])


# Kills figures.py:174 ys `_pos` -> `_finite_or_zero` (a 0 plotted on the log axis instead of
# a "v" at the bottom edge). Docstring: "v for 0 (e.g. a dead layer's std)".
def test_layer_profile_marks_a_zero_std_at_the_bottom_edge():
    recs = _profile_records()
    for r in recs:
        if r["step"] == 10 and r["layer"] == "a":
            r["act_std"] = 0.0
    std_ax = layer_profile(recs).axes[0]
    last = _data_lines(std_ax)[1]
    y = np.asarray(last.get_ydata(), dtype=float)
    assert y[0] == 2.0 and math.isnan(y[1]) and y[2] == 0.02
    (v,) = [ln for ln in std_ax.lines if ln.get_marker() == "v"]
    assert list(v.get_xdata()) == [1]
    assert std_ax.get_xlabel() == "(at the bottom edge: ▼ = 0)"


# Kills plots.py:140 `np.isfinite(row[j])` dropped (an Inf final carried forward) and the
# status test widened to NaN stops (plots.py:141 `row[j + 1:]` -> `row[j:]` is equivalent:
# it assigns row[j] to itself). Docstring of _held: an early-stopped model's value at its stop
# epoch is carried to later epochs; a non-finite final is not held; other statuses untouched.
def test_held_carries_only_finite_early_stop_values_forward():
    from trainlab.report.plots import _held

    nan = math.nan
    vals = np.array(
        [
            [1.0, 0.5, nan, nan],  # early stopped at column 1
            [1.0, math.inf, nan, nan],  # early stopped with an Inf final: not held
            [2.0, 1.0, nan, nan],  # NaN-stopped: leaves the mean
            [3.0, 2.0, 1.0, 0.5],  # ran to the end
        ]
    )
    out = _held(vals, ["early_stopped", "early_stopped", "nan", "done"], [1, 1, 1, 3])
    expected = np.array(
        [
            [1.0, 0.5, 0.5, 0.5],
            [1.0, math.inf, nan, nan],
            [2.0, 1.0, nan, nan],
            [3.0, 2.0, 1.0, 0.5],
        ]
    )
    np.testing.assert_array_equal(out, expected)
    assert np.isnan(vals[0, 2])  # the input is not changed


# Kills plots.py:301 `_mean_std(_held(...))` -> `_mean_std(vals)` (an early-stopped seed
# dropped from the mean after it stopped) and plots.py:300 `curves[i][-1]` -> `curves[i][0]`
# (the first epoch's value held instead of the stop epoch's). curve_figure's docstring: "an
# early-stopped seed stays in the mean and band at its final value". Seed 0 stops at epoch 2
# with val loss 0.5; seed 1 runs to epoch 4: mean = [(1+2)/2, (0.5+1.5)/2, (0.5+1)/2,
# (0.5+0.75)/2]; band = numpy ddof=1 std of the same pairs, within the pair.
def test_curve_mean_holds_an_early_stopped_seed_at_its_final_value():
    from trainlab.report.plots import curve_figure

    curves = {
        0: [{"epoch": 1, "val_loss": 1.0}, {"epoch": 2, "val_loss": 0.5}],
        1: [{"epoch": e, "val_loss": v} for e, v in ((1, 2.0), (2, 1.5), (3, 1.0), (4, 0.75))],
    }
    results = [
        {"index": 0, "group": "g", "status": "early_stopped"},
        {"index": 1, "group": "g", "status": "done"},
    ]
    fig = curve_figure(StubRun(curves, results), "loss")
    (ax,) = fig.axes
    assert ax.get_title() == "val loss"
    (mean_line,) = [ln for ln in ax.lines if ln.get_label() == "g"]
    pairs = np.array([[1.0, 2.0], [0.5, 1.5], [0.5, 1.0], [0.5, 0.75]])
    np.testing.assert_allclose(mean_line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(mean_line.get_ydata(), pairs.mean(axis=1))
    band = ax.collections[-1]  # (the thin seed lines first, then the fill_between band)
    top = band.get_paths()[0].vertices[:, 1].max()
    # mean + std within the seeds' range (plots.seed_band)
    assert math.isclose(top, np.minimum(pairs.mean(1) + pairs.std(1, ddof=1), pairs.max(1)).max())


# Kills html.py:234 `len(rows) > FOLD_ROWS` -> `>=` and html.py:230 the numeric-text test
# dropped. Module docstring: a table with more rows than FOLD_ROWS (30) is folded in
# <details>; 30 rows are not. A "mean ± std" text cell is right-aligned as a number.
def test_table_folds_beyond_30_rows_and_aligns_numeric_text():
    from trainlab.report.html import _table_html

    thirty = _table_html(["x"], [[i] for i in range(30)])
    assert "<details>" not in thirty
    assert thirty.count("<tr>") == 31
    more = _table_html(["x"], [[i] for i in range(31)])
    assert more.startswith("<details><summary>show all 31 rows</summary>")
    cell = _table_html(["a", "b"], [["0.5 ± 0.1", "relu"]])
    assert '<td class="num">0.5 ± 0.1</td>' in cell
    assert "<td>relu</td>" in cell
