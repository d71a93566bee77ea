"""Review of the 2026-12-02 change (dash_overlapping in trainlab.report.plots)."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trainlab.report.plots import dash_overlapping


def _hex(i: int) -> str:
    # a distinct exact colour per line (red channel = line number), never white or black
    return f"#{20 + 2 * i:02x}40c0"


def _colours_shown(curves: list[np.ndarray], x: np.ndarray, *, dash: bool) -> tuple[int, int]:
    """Draw one line per curve (lw 2, no antialiasing, each its own exact colour) on a 5 x 3.6
    inch axes, dash_overlapping them if asked; returns (lines drawn, colours found in the
    rendered pixels)."""
    fig = Figure(figsize=(5, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    lines = [
        ax.plot(x, y, color=_hex(i), lw=2.0, antialiased=False)[0] for i, y in enumerate(curves)
    ]
    if dash:
        dash_overlapping(ax, lines)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    shown = 0
    for i in range(len(curves)):
        c = np.array([20 + 2 * i, 0x40, 0xC0])
        shown += bool((np.abs(img - c).sum(-1) == 0).any())
    return len(curves), shown


def test_dash_overlapping_shows_every_colour_of_a_large_cluster_of_identical_lines():
    """plots.py dash_overlapping: its docstring (and README "so that each color shows") says
    lines lying on one another are dashed "so that each color shows in turn". Each line of a
    cluster of m gets one dash of 4 points (x linewidth) every m dashes, so a period of
    4*m*lw points: past ~L/(4*lw) lines (L the path length, ~300 pt) the later lines' only dash
    starts beyond the end of the line and they are not drawn at all. 60 groups that all
    failed at the same chance loss (the docstring's own example, scaled up; the report dashes
    up to MAX_DASHED_LINES = 1000): expected all 60 colours visible in the rendered figure;
    got 32 (the rest never appear, though the legend lists them)."""
    x = np.arange(1.0, 16.0)
    curves = [np.full_like(x, 2.3026) for _ in range(60)]  # ln(10): chance loss of 10 classes
    curves.append(np.linspace(2.3, 0.1, x.size))  # one group that trained (sets the y span)
    n, shown = _colours_shown(curves, x, dash=True)
    assert shown == n, f"only {shown} of {n} line colours appear in the figure"


def test_dash_overlapping_does_not_hide_distinct_curves_of_a_sweep():
    """plots.py dash_overlapping: transitive clustering chains a smooth sweep of 100 distinct
    curves (neighbours 0.5% of the span apart, the first and last ~35% apart) into one cluster
    of 100 "mean lines on one another", each drawn as one dash per 100 dashes. Drawn solid,
    every one of the 100 colours is visible (checked here); after dash_overlapping, expected
    still 100 (the function only exists to make hidden colours show); got 40: 60 curves vanish
    from the figure. (The same happens in curve_figure on a 100-group sweep, whose note then
    says '100 mean lines on one another'.)"""
    x = np.arange(1.0, 16.0)
    curves = [1.0 / (1 + x + 0.01 * i) for i in range(100)]
    n, solid = _colours_shown(curves, x, dash=False)
    assert solid == n  # the premise: solid, every curve shows
    n, shown = _colours_shown(curves, x, dash=True)
    assert shown == n, f"dashed, only {shown} of {n} distinct curves appear"
    # and the first and last curves are far apart (not "on one another"): by hand
    assert abs(curves[0][0] - curves[-1][0]) > 0.3 * (curves[0][0] - curves[-1][-1])


def test_dash_overlapping_accepts_a_line_with_nan_x():
    """plots.py dash_overlapping (c4cc4b2's numpy rewrite): a line whose x data holds NaN
    (a gap, valid matplotlib input; the previous version dropped non-finite x) raises
    KeyError: nan, because `cols` is keyed by the float objects of one xs.tolist() and looked
    up with those of another (NaN != NaN, and hash(nan) is per object). Expected: the two
    lines, equal at their 3 finite x values, are found overlapping (2 returned); got KeyError."""
    fig = Figure()
    ax = fig.subplots()
    a = ax.plot([0.0, np.nan, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])[0]
    b = ax.plot([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])[0]
    assert dash_overlapping(ax, [a, b]) == 2
