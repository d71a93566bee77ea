"""Figures a class can read: lines that lie on one another are dashed in turn, and short log
axes are labelled with plain numbers (a teacher's review of the init study's report)."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from conftest import StubRun
from trainlab.report.plots import curve_figure, dash_overlapping, plain_log_labels, save_figure


def _kept_figures(monkeypatch) -> dict:
    """The figures a study adds to its report, by name (filled as it runs)."""
    from trainlab.report import Report

    figures = {}
    add = Report.add_figure

    def kept(self, name, fig, *args, **kwargs):
        figures[name] = fig
        return add(self, name, fig, *args, **kwargs)

    monkeypatch.setattr(Report, "add_figure", kept)
    return figures


def _labels(fig, ax, minor):
    fig.canvas.draw()
    return [t.get_text() for t in ax.get_yticklabels(minor=minor) if t.get_text()]


def test_a_short_log_axis_reads_plain_numbers(tmp_path):
    """A loss from 0.15 to 4.2 on a log axis was labelled 10⁻¹, 10⁰, 10¹ with minor labels
    2×10⁻¹ ... 6×10⁰ (matplotlib's mathtext): on a projector, '0.2 0.3 ... 4' reads at once."""
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0.15, 4.2])
    ax.set_yscale("log")
    before = _labels(fig, ax, minor=True)
    assert "$\\mathdefault{2\\times10^{-1}}$" in before
    save_figure(fig, tmp_path / "f.png")
    assert _labels(fig, ax, minor=False) == ["0.1", "1", "10"]
    assert _labels(fig, ax, minor=True) == ["0.2", "0.3", "0.4", "0.6", "2", "3", "4", "6"]


def test_plain_log_labels_keep_which_ticks_are_labelled_and_far_decades_and_chosen_formatters():
    fig = Figure()
    wide, chosen = fig.subplots(1, 2)
    wide.plot([0, 1], [1e-7, 1e4])
    wide.set_yscale("log")
    wide.set_ylim(1e-8, 1e4)
    chosen.plot([0, 1], [0.15, 4.2])
    chosen.set_yscale("log")
    mine = FuncFormatter(lambda v, _: f"<{v}>")
    chosen.yaxis.set_major_formatter(mine)
    plain_log_labels(fig)
    fig.canvas.draw()
    labels = [t.get_text() for t in wide.get_yticklabels() if t.get_text()]
    assert labels == [  # every other decade; plain from 1e-3 to 1e5
        "$\\mathdefault{10^{-10}}$", "$\\mathdefault{10^{-8}}$", "$\\mathdefault{10^{-6}}$",
        "$\\mathdefault{10^{-4}}$", "0.01", "1", "100", "10000", "$\\mathdefault{10^{6}}$",
    ]  # fmt: skip
    assert [t.get_text() for t in wide.get_yticklabels(minor=True) if t.get_text()] == []
    assert chosen.yaxis.get_major_formatter() is mine


def _copies(ax):
    """The dashed copies dash_overlapping drew on ``ax``, by color."""
    from trainlab.report.plots import DASHED_GID

    return {c.get_color(): c for c in ax.get_lines() if c.get_gid() == DASHED_GID}


def _line(ax, y, x=None):
    (line,) = ax.plot(np.arange(len(y)) if x is None else x, y)
    return line


def test_overlapping_lines_get_interleaved_dashes_and_others_stay_solid():
    fig = Figure()
    ax = fig.subplots()
    chance = [2.30] * 10
    a = _line(ax, chance)
    b = _line(ax, [2.301] * 10)  # within 1% of the axis span
    c = _line(ax, np.linspace(2.3, 0.1, 10))
    d = _line(ax, [4.0] + [2.30] * 9)  # apart at one epoch of ten: still on top of the others
    e = _line(ax, [2.30, 2.30], x=[20, 21])  # shares no x with the others
    assert dash_overlapping(ax, [a, b, c, d, e]) == 3
    copies = _copies(ax)
    assert set(copies) == {a.get_color(), b.get_color(), d.get_color()}  # c and e stay solid
    assert {line.get_linestyle() for line in (a, b, c, d, e)} == {"-"}  # (the lines themselves)
    offsets = [copies[line.get_color()]._unscaled_dash_pattern for line in (a, b, d)]
    assert len({o[0] for o in offsets}) == 3  # each its own turn
    assert all(o[1] == (4.0, 8.0) for o in offsets)  # one dash in every three
    # over the run where all three lie on the first (d is apart at x = 0): x = 1..9
    assert [list(copies[line.get_color()].get_xdata()) for line in (a, d)] == [
        list(range(1, 10))
    ] * 2


def test_overlap_is_judged_on_the_log_scale_of_a_log_axis():
    fig = Figure()
    ax = fig.subplots()
    lo = _line(ax, [1e-3] * 5)
    near = _line(ax, [1.3e-3] * 5)
    top = _line(ax, [10.0] * 5)
    ax.set_yscale("log")
    assert dash_overlapping(ax, [lo, near, top]) == 0  # log10: 0.11 of a 4-decade span
    ax.set_yscale("linear")
    assert dash_overlapping(ax, [lo, near, top]) == 2  # linear: 3e-4 of a span of 10


def test_curve_figure_dashes_groups_that_failed_alike_and_says_so():
    """The init study's depth-4 cell: zeros, constant and N(0, 0.01²) all sit at the chance
    loss; drawn solid, the last one hid the others."""
    curves, results = {}, []
    finals = {"zeros": 2.3026, "constant": 2.3026, "normal": 2.3027, "he": 0.2}
    for i, (g, f) in enumerate(finals.items()):
        ys = np.linspace(2.3026, f, 6)
        curves[i] = [{"epoch": e + 1, "train_loss": float(y)} for e, y in enumerate(ys)]
        results.append({"index": i, "group": g, "status": "done"})
    fig = curve_figure(StubRun(curves, results), "loss")
    (ax,) = fig.axes
    mean_lines = {line.get_label(): line for line in ax.get_lines()}
    copies = _copies(ax)
    dashed = {g for g in finals if mean_lines[g].get_color() in copies}
    assert dashed == {"zeros", "constant", "normal"}
    assert ax.get_xlabel() == "epoch\n(3 mean lines on one another: dashed in turn)"
    (legend,) = fig.legends
    assert all(h.get_linestyle() == "-" for h in legend.legend_handles)  # the key stays solid


@pytest.mark.parametrize("metric", ["loss", "acc"])
def test_curve_figure_of_distinct_groups_has_no_note(metric):
    curves = {i: [{"epoch": e + 1, f"train_{metric}": 0.1 * (i + 1) * (e + 1)} for e in range(4)]
              for i in range(3)}  # fmt: skip
    results = [{"index": i, "group": f"g{i}", "status": "done"} for i in range(3)]
    (ax,) = curve_figure(StubRun(curves, results), metric).axes
    assert ax.get_xlabel() == "epoch"
    assert {line.get_linestyle() for line in ax.get_lines()} == {"-"}


def test_the_clipping_study_dashes_curves_clipping_did_not_change(tmp_path, monkeypatch):
    """At an LR where clipping changes nothing, the clipped and unclipped curves are one curve;
    drawn solid, the unclipped one vanished under the other."""
    from test_actclip20_contracts import _fake_train_cell  # (both cells: loss 3/epoch)
    from trainlab.studies import clipping as clip_study

    figures = _kept_figures(monkeypatch)
    monkeypatch.setattr(clip_study, "train_cell", _fake_train_cell)
    clip_study.run(tmp_path / "clip", quick=True, seeds=2, device="cpu")
    axes = [ax for ax in figures["clipping_relu"].axes if ax.get_lines()]
    assert axes
    for ax in axes:
        assert len(_copies(ax)) == 2 and {c.get_linestyle() for c in _copies(ax).values()} == {"--"}
        assert ax.get_xlabel() == "epoch\n(2 mean lines on one another: dashed in turn)"


def test_the_init_studys_curves_name_and_color_a_scheme_as_its_bars_do():
    """The depth-4 cell's curves drew Xavier purple, the depth-30 cell's blue (colors by position
    in each cell), and their legends said 'init.scheme=normal, init.std=0.01' where the tables
    and bars say 'N(0, 0.01²)'."""
    from matplotlib.colors import to_hex

    from trainlab.studies import init_study

    def cell_run(schemes):
        results, curves = [], {}
        for i, name in enumerate(schemes):
            over = init_study.SCHEMES[name]
            group = ", ".join(f"{k}={v}" for k, v in over.items())
            results.append({"index": i, "group": group, "overrides": over, "status": "done"})
            curves[i] = [{"epoch": e, "train_loss": 2.0 / (e + i)} for e in (1, 2, 3)]
        return StubRun(curves, results)

    every = list(init_study.SCHEMES)
    deep = ["Xavier", "He", "LSUV"]
    colors = {}
    for schemes in (every, deep):
        run = cell_run(schemes)
        names, cols = init_study._scheme_styles(run)
        fig = curve_figure(run, "loss", names=names, colors=cols)
        (legend,) = fig.legends
        labels = [t.get_text() for t in legend.get_texts()]
        assert labels == schemes
        for line in fig.axes[0].get_lines():
            colors.setdefault(line.get_label(), set()).add(to_hex(line.get_color()))
    bars = init_study._bar_figure(
        [{"name": "c", "schemes": deep,
          "models": [{"scheme": s, "status": "ok", "final": {"test_acc": 0.5}} for s in deep]}]
    )  # fmt: skip
    for scheme, patch in zip(deep, bars.axes[0].patches, strict=True):
        assert colors[scheme] == {to_hex(patch.get_facecolor()[:3])}


def test_a_group_whose_every_model_failed_at_once_keeps_its_legend_key():
    """Every model of 'lr=1e12' stopped for NaN/Inf before a finite value: its group vanished
    from the figure and its legend; the key now names it with an x, and each panel says how
    many models it cannot draw."""
    nan = float("nan")
    curves = {
        0: [{"epoch": e, "train_loss": 2.0 / e} for e in (1, 2, 3)],
        1: [{"epoch": e, "train_loss": 2.1 / e} for e in (1, 2, 3)],
        2: [{"epoch": e, "train_loss": nan} for e in (1, 2, 3)],
        3: [{"epoch": e, "train_loss": nan} for e in (1, 2, 3)],
    }
    results = [{"index": i, "group": "lr=0.1" if i < 2 else "lr=1e12",
                "status": "done" if i < 2 else "nan"} for i in range(4)]  # fmt: skip
    fig = curve_figure(StubRun(curves, results), "loss")
    (ax,) = fig.axes
    assert (
        ax.get_xlabel()
        == "epoch\n(2 models stopped for NaN/Inf before any finite value: not drawn)"
    )
    assert [line.get_label() for line in ax.get_lines()] == ["lr=0.1"]  # nothing drawn for it
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["lr=0.1", "lr=1e12"]
    assert legend.legend_handles[1].get_marker() == "x"


def test_the_dynamics_figure_keys_a_group_whose_every_model_failed_at_once():
    """The learning-rate/gradient-norm figure of the same run: 'lr=1e12' (its rows cut at the
    failing step, as ``RunData.plot_curves`` cuts them) had no line and no legend key, so the
    figure read as if the grid held one learning rate."""
    from trainlab.report.plots import dynamics_figure

    curves = {
        i: [{"epoch": e, "lr": 0.1 / e, "grad_norm": 1.0 + i / e} for e in (1, 2, 3)]
        for i in (0, 1)
    } | {2: [], 3: []}
    results = [{"index": i, "group": "lr=0.1" if i < 2 else "lr=1e12",
                "status": "done" if i < 2 else "nan"} for i in range(4)]  # fmt: skip
    fig = dynamics_figure(StubRun(curves, results))
    for ax in fig.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["lr=0.1"]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["lr=0.1", "lr=1e12"]
    assert legend.legend_handles[1].get_marker() == "x"
    results[3]["status"] = "done"  # (a group with a model left is not keyed as failed)
    (legend,) = dynamics_figure(StubRun(curves, results)).legends
    assert [t.get_text() for t in legend.get_texts()] == ["lr=0.1"]


def test_dash_overlapping_edge_cases_and_its_cap():
    from trainlab.report import plots

    fig = Figure()
    ax = fig.subplots()
    assert dash_overlapping(ax, []) == 0
    one = _line(ax, [1.0])
    gone = _line(ax, [float("nan")] * 3)
    a, b = _line(ax, [1.0, 2.0, 3.0]), _line(ax, [1.0, 2.0, 3.0])
    assert dash_overlapping(ax, [one, gone, a, b]) == 2  # (one shared point is not enough)
    assert one.get_linestyle() == "-" and gone.get_linestyle() == "-"
    many = [_line(ax, [1.0, 2.0, 3.0]) for _ in range(plots.MAX_DASHED_LINES + 1)]
    assert dash_overlapping(ax, many) == 0  # (beyond the cap: left as they are)
    assert {line.get_linestyle() for line in many} == {"-"}


def test_the_pretraining_studys_panels_dash_methods_that_score_alike():
    """Random init and a pre-training method at the same accuracy at every label fraction: the
    second errorbar line hid the first."""
    from trainlab.studies import pretraining

    act = next(iter(pretraining.RANDOM_INIT))
    rows = [
        {"data": "digits", "activation": act, "depth": 3, "method": method, "labels": f,
         "test_acc_mean": 0.5 + 0.3 * f + (0.1 if method == pretraining.METHODS[-1] else 0.0),
         "test_acc_std": 0.01}
        for method in pretraining.METHODS
        for f in (0.01, 0.1, 1.0)
    ]  # fmt: skip
    fig = pretraining._figure(rows, [0.01, 0.1, 1.0], [3], ["digits"])
    ax = next(ax for ax in fig.axes if ax.get_lines())
    data = [line for line in ax.get_lines() if line.get_marker() == "o"]
    alike = len(pretraining.METHODS) - 1  # all but the last score alike
    assert set(_copies(ax)) == {line.get_color() for line in data[:alike]}
    assert f"({alike} mean lines on one another: dashed in turn)" in ax.get_xlabel()


def test_the_init_study_run_draws_its_curves_in_the_schemes_names_and_colors(tmp_path, monkeypatch):
    """run() itself passes the schemes' names and colors to curve_figure (one tiny cell)."""
    from matplotlib.colors import to_hex

    from trainlab.studies import init_study

    cell = {"data": "digits", "depth": 1, "act": "relu", "schemes": ["zeros", "He"], "epochs": 1}
    monkeypatch.setattr(init_study, "_cells", lambda quick: [dict(cell)])
    monkeypatch.setattr(init_study, "QUICK_WIDTH", 8)
    figures = _kept_figures(monkeypatch)
    init_study.run(tmp_path / "s", quick=True, seeds=1, device="cpu")
    (name,) = [n for n in figures if n.startswith("curves_") and n.endswith("_loss")]
    (legend,) = figures[name].legends
    assert [t.get_text() for t in legend.get_texts()] == ["zeros", "He"]
    schemes = list(init_study.SCHEMES)
    expected = [to_hex(f"C{schemes.index(s)}") for s in ("zeros", "He")]
    assert [to_hex(h.get_color()) for h in legend.legend_handles] == expected


def test_a_log_axis_of_one_to_two_decades_labels_some_minor_ticks(tmp_path):
    """Figure review: a gradient norm from 0.03 to 0.9 on a log axis was labelled ``0.1`` and
    ``1`` alone (matplotlib labels minor ticks below 1 decade only): 0.17 could not be read."""
    fig = Figure(figsize=(3, 3))
    ax = fig.subplots()
    ax.plot(np.arange(10), np.geomspace(0.9, 0.03, 10))
    ax.set_yscale("log")
    save_figure(fig, tmp_path / "f.png")
    labels = {t.get_text() for t in ax.yaxis.get_ticklabels(minor=True) if t.get_text()}
    assert {"0.03", "0.3"} <= labels, labels


def test_lr_grid_error_bars_stay_within_the_seeds_range():
    """Figure review: preprocessing's lr_grid_MLP.png drew Adam at lr 0.03 as 0.0123 ± 0.0169
    on a log axis, its bar running off the bottom (a loss near 0 that no seed had)."""
    from trainlab.studies.cells import mean_std, seed_errors

    seeds = [0.001, 0.002, 0.035]
    m, s = mean_std(seeds)
    assert m - s < 0  # (the symmetric bar)
    (below,), (above,) = seed_errors([seeds])
    assert m - below == pytest.approx(0.001) and m + above == pytest.approx(m + s)
    (below,), (above,) = seed_errors([[1.0, 2.0, 3.0]])  # (within the range: mean ± std)
    assert below == pytest.approx(1.0) and above == pytest.approx(1.0)
