"""A teacher's review of the study figures students will see (optimizers, optimizers-2d,
pretraining, init; ``--quick``): defects that would mislead a class, each on hand-made data."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from trainlab.report.plots import dash_overlapping
from trainlab.studies.optimizers_2d import FUNCTIONS, _plot


def test_2d_trajectories_that_coincide_are_not_hidden_without_a_note():
    """optimizers-2d, trajectories_*.png: every path is drawn solid at alpha 0.85 and none is
    told apart when two lie on one another. In `trainlab study optimizers-2d --quick`,
    AdaGrad (lr 3) and RMSProp (lr 0.3) take the same path on the quadratic (both first step
    to (−5, −2); within 0.023 of each other in a 18 × 4 box), likewise AdaGrad (lr 1) and
    RMSProp (lr 0.1) on Beale, and SGD's crawl along y = 0 lies under Nesterov's: the red
    AdaGrad and the blue SGD paths are nowhere to be seen, though the legend lists them and
    the claims table speaks of them. Expected (as curve figures do since today): two
    trajectories that lie on one another are drawn so that each shows (dashed in turn or
    otherwise styled apart) or the figure says they lie on one another. Got: both solid, the
    same style, and no note anywhere on the figure."""
    fn = FUNCTIONS["quadratic"]
    path = torch.tensor(
        [[-8.0, 1.0], [-5.0, -2.0], [-3.4, 0.68], [-2.4, -0.19], [-1.2, 0.0], [0.0, 0.0]],
        dtype=torch.float64,
    )
    other = torch.tensor([[-8.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    fig = _plot(fn, {"AdaGrad": (path, 3.0), "RMSProp": (path.clone(), 0.3),
                     "Newton": (other, 1.0)})  # fmt: skip
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    a, b = lines["AdaGrad (lr 3)"], lines["RMSProp (lr 0.3)"]
    styled_apart = (a.get_linestyle(), a.get_linewidth(), a.get_marker()) != (
        b.get_linestyle(), b.get_linewidth(), b.get_marker())  # fmt: skip
    words = " ".join(
        [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()] + [t.get_text() for t in ax.texts]
    ).lower()
    noted = "on one another" in words or "overlap" in words or "hidden" in words
    assert styled_apart or noted, (
        "two identical trajectories drawn alike, the later one hiding the earlier, no note: "
        f"{a.get_label()!r} {a.get_linestyle()!r} vs {b.get_label()!r} {b.get_linestyle()!r}"
    )


def _three_flat_and_one_from(first: float):
    """Lines C0-C2 at 2.3 for epochs 1-10, C3 at ``first`` at epoch 1 then 2.3 (lw 2)."""
    fig = Figure(figsize=(5.6, 3.6))
    ax = fig.subplots()
    x = np.arange(1, 11, dtype=float)
    flat = np.full(10, 2.3)
    high = flat.copy()
    high[0] = first
    ys = [flat, flat, flat, high]
    lines = [ax.plot(x, y, color=f"C{i}", lw=2.0)[0] for i, y in enumerate(ys)]
    return fig, ax, lines


def _near(img: np.ndarray, xy_px: tuple[float, float], rgb: tuple[float, ...], r: int = 3):
    """Whether a pixel of color ``rgb`` lies within ``r`` px of display point ``xy_px``."""
    h = img.shape[0]
    x, y = round(xy_px[0]), round(h - xy_px[1])
    patch = img[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1, :3].astype(float) / 255
    return bool((np.abs(patch - np.asarray(rgb)).max(-1) < 0.12).any())


def test_dashed_line_still_shows_its_first_point_where_it_lies_on_no_other():
    """init study, curves_digits-depth4-relu_loss.png, train-loss panel: zeros, constant 0.1,
    N(0, 0.01²) and N(0, 1) all sit at ln 10 from epoch 2, so the four are dashed in turn
    (one shared pattern, each line a dash in turn, the 4th starting after a gap of 3 dashes).
    The pattern runs along each whole line, also where it lies on no other: constant 0.1's
    epoch-1 mean (~58) and N(0, 1)'s (~4,160) fall in gaps, so their lines start in mid-air
    (orange at ~15, red at ~2,700) and a student reads a wrong first-epoch loss. Expected:
    a line's own first point (where no other line is near) is drawn in its color. Got: a
    gap there (here the 4th line, at 50 at epoch 1, all three others at 2.3)."""
    fig, ax, lines = _three_flat_and_one_from(50.0)
    ax.set_yscale("log")
    ax.set_ylim(1.0, 100.0)
    ax.set_xlim(0.5, 10.5)
    assert dash_overlapping(ax, lines, note=True) == 4  # the four lie on one another
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())
    first = ax.transData.transform((1.0, 50.0))
    assert _near(img, first, to_rgb("C3")), (
        "the 4th line's own first point (epoch 1, 50; no other line near) is not drawn: "
        "its dash pattern starts with a gap there"
    )


def test_lines_dashed_in_turn_each_show_where_they_lie_on_one_another():
    """init study, curves_digits-depth4-relu_loss.png, train-loss panel, the four curves at
    ln 10 (note: "6 mean lines on one another: dashed in turn"): the dash pattern is laid
    along each line's own path from its first point, so N(0, 1), which first falls from
    ~4,160 at epoch 1, and constant 0.1 (from ~58) arrive at the chance level out of phase
    with zeros and N(0, 0.01²): their dashes land on zeros' turn. In the report's PNG, along
    the chance level (epochs 2–10), zeros' blue is 16 pixels against N(0, 1)'s red 159:
    zeros is practically hidden although the note says every line is dashed in turn.
    Expected: where the lines lie on one another each shows in turn, about a quarter each
    (here: at least half of that fair share). Got (three lines at 2.3 from epoch 1, the 4th
    at 4,000 at epoch 1 then 2.3): the first line's color covers ~46 px against ~245 when
    all four start together."""
    fig, ax, lines = _three_flat_and_one_from(4000.0)
    ax.set_yscale("log")
    ax.set_ylim(1.0, 10000.0)
    ax.set_xlim(0.5, 10.5)
    assert dash_overlapping(ax, lines, note=True) == 4
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].astype(float) / 255
    h = img.shape[0]
    (x0, y0), (x1, _) = ax.transData.transform([(2.0, 2.3), (10.0, 2.3)])
    band = img[round(h - y0) - 4 : round(h - y0) + 5, round(x0) : round(x1)]
    colors = [line.get_color() for line in lines]
    shown = {c: int((np.abs(band - np.asarray(to_rgb(c))).max(-1) < 0.12).sum()) for c in colors}
    fair = sum(shown.values()) / len(colors)
    assert min(shown.values()) >= 0.5 * fair, f"pixels of each line's color at y = 2.3: {shown}"


def _quadratic_plot(paths: dict[str, list[list[float]]]):
    fn = FUNCTIONS["quadratic"]
    best = {k: (torch.tensor(v, dtype=torch.float64), 0.1) for k, v in paths.items()}
    fig = _plot(fn, best)
    ax = fig.axes[0]
    return ax, {line.get_label().split(" (lr")[0]: line for line in ax.get_lines()}


def test_2d_paths_that_only_end_at_one_minimum_are_not_said_to_lie_on_one_another():
    """Figure review (2026-12-02), trajectories_beale.png: "momentum, Nesterov and Adam lie on
    one another" and trajectories_saddle.png "Nesterov and L-BFGS" though their paths plainly
    differ: two paths counted as one when close at half their shared steps, which two runs
    sitting at the same minimum for hundreds of steps are. A straight two-step path (Newton's)
    whose two points lie on another path's corner was joined to it too."""
    start, end = [-8.0, 1.0], [0.0, 0.0]
    below = [start, [-6.0, -1.5]] + [[-3.0, -1.0]] + [end] * 300
    above = [start, [-6.0, 1.8]] + [[-3.0, 1.5]] + [end] * 300
    corner = [start, [-8.0, 0.0], end]  # (an L: down, then along y = 0)
    ax, lines = _quadratic_plot({"A": below, "B": above, "L": corner, "Newton": [start, end]})
    assert {line.get_linestyle() for k, line in lines.items() if k in "A B L Newton"} == {"-"}
    assert "on one another" not in ax.get_xlabel()


def test_2d_path_crawling_along_another_at_its_own_pace_is_dashed():
    """SGD's slow crawl along y = 0, under Nesterov's fast run down the same line (different
    steps, one path), hid SGD's line; both now show, dashed in turn, and the figure says so."""
    start = [-8.0, 0.0]
    slow = [[-8.0 + 0.05 * i, 0.0] for i in range(60)]  # stops at x = -5.05
    fast = [start, [-4.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]
    ax, lines = _quadratic_plot({"SGD": slow, "Nesterov": fast})
    assert lines["SGD"].get_linestyle() != "-" and lines["Nesterov"].get_linestyle() != "-"
    assert "SGD and Nesterov lie on one another" in ax.get_xlabel()


def test_2d_trajectory_figures_mark_the_start_and_the_saddle_they_promise():
    """The captions say "start ●, minimum ★" but no start was drawn; the saddle point, the
    subject of the saddle figure, was not marked either."""
    fn = FUNCTIONS["saddle"]
    path = torch.tensor([fn.start, [0.3, 0.0], [0.0, 0.9]], dtype=torch.float64)
    ax = _plot(fn, {"SGD": (path, 0.9)}).axes[0]
    marks = {line.get_label(): line for line in ax.get_lines()}
    assert marks["start"].get_marker() == "o"
    assert tuple(marks["start"].get_xydata()[0]) == fn.start
    assert tuple(marks["saddle point"].get_xydata()[0]) == fn.saddle
    assert marks["minimum"].get_marker() == "*"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"start", "minimum", "saddle point"} <= set(labels)
