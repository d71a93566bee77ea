"""Figures of a run: training curves with seed bands, per-layer diagnostics vs step.

Figures are built on :class:`matplotlib.figure.Figure` directly (no ``pyplot``), so building a
report never touches the user's global matplotlib state or backend; PNGs are rendered by Agg.
To stay fast on large populations, each group draws its mean line, a mean ± std band (within
the seeds' range), and at most :data:`MAX_SEED_LINES` thin per-seed lines (drawn as one
``LineCollection``).
"""

from __future__ import annotations

import math
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator

from .rundata import DEFAULT_GROUP, RunData, group_label, num

__all__ = [
    "MAX_SEED_LINES",
    "DIAGNOSTIC_STATS",
    "STAT_TITLES",
    "group_colors",
    "curve_figure",
    "dynamics_figure",
    "diagnostics_figure",
    "save_figure",
    "seed_band",
    "dash_overlapping",
    "plain_log_labels",
]

#: thin per-seed lines drawn per group; the band and mean always use every seed.
MAX_SEED_LINES = 20
#: :func:`dash_overlapping` compares every pair of lines: beyond this many it leaves them be
#: (1,000 lines of 15 points: ~0.1 s; a figure of them reads as its band of colors anyway)
MAX_DASHED_LINES = 1000
#: the ``gid`` of the dashed copies :func:`dash_overlapping` draws over lines on one another
DASHED_GID = "trainlab-dashed"
#: at most this many groups get their own panel in a diagnostics figure (the rest are listed).
MAX_DIAG_PANELS = 12
#: per-layer statistics plotted from diagnostics.jsonl (those with no values are skipped).
DIAGNOSTIC_STATS = ("act_std", "dead_fraction", "saturated_fraction", "grad_norm", "update_ratio")
_LOG_STATS = {"act_std", "grad_norm", "update_ratio"}
_FRACTION_STATS = {"dead_fraction", "saturated_fraction"}  # shares of units, 0..1
#: what each of DIAGNOSTIC_STATS is called in figures
STAT_TITLES = {
    "act_std": "activation std",
    "dead_fraction": "dead-unit fraction",
    "saturated_fraction": "saturated fraction",
    "grad_norm": "gradient norm",
    "update_ratio": "update / weight ratio",
}
_DPI = 100


def group_colors(groups: Sequence[str]) -> dict[str, Any]:
    """One color per group: tab10 up to 10 groups, tab20 up to 20, else a sampled turbo map."""
    from matplotlib import colormaps

    n = len(groups)
    if n <= 10:
        cols = [colormaps["tab10"](i) for i in range(n)]
    elif n <= 20:
        cols = [colormaps["tab20"](i) for i in range(n)]
    else:
        cmap = colormaps["turbo"]
        cols = [cmap(0.05 + 0.9 * i / (n - 1)) for i in range(n)]
    return dict(zip(groups, cols, strict=True))


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             **kwargs: Any) -> tuple[Figure, Any]:  # fmt: skip
    """``pyplot.subplots`` without pyplot: a :class:`Figure` of its own and its axes, so that a
    figure trainlab draws never switches the user's backend or joins pyplot's figures."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


class _PlainLogFormatter(LogFormatterSciNotation):
    """matplotlib's log-axis labels, on the ticks it labels, written as plain numbers between
    1e-3 and 1e5 (``0.3``, ``4``, ``1000``) instead of ``3×10⁻¹``, ``4×10⁰``, ``10³``; beyond
    them, as before."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        label = super().__call__(x, pos)
        if label and 1e-3 <= abs(x) <= 1e5:
            return f"{x:g}"
        return label


def plain_log_labels(fig: Figure) -> Figure:
    """Give every log-scaled axis of ``fig`` that still has matplotlib's default labels plain
    numbers (:class:`_PlainLogFormatter`): a short log axis (a loss from 0.15 to 4) otherwise
    reads ``2×10⁻¹ 3×10⁻¹ 4×10⁻¹ 6×10⁻¹ 10⁰ 2×10⁰``. An axis of up to 2 decades (matplotlib:
    1) labels some of its minor ticks (2, 3, 4, 6 times a power of ten): one from 0.03 to 0.9
    read ``0.1`` and ``1`` alone. Returns ``fig``."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "log":
                continue
            for get, put in (
                (axis.get_major_formatter, axis.set_major_formatter),
                (axis.get_minor_formatter, axis.set_minor_formatter),
            ):
                old = get()
                if type(old) is LogFormatterSciNotation:  # (not one a figure chose)
                    put(
                        _PlainLogFormatter(
                            old._base,
                            labelOnlyBase=old.labelOnlyBase,
                            minor_thresholds=(2, 0.4),  # (matplotlib: 1, 0.4)
                            linthresh=old._linthresh,
                        )
                    )
    return fig


def dash_overlapping(
    ax: Any, lines: Sequence[Line2D], *, tol: float = 0.01, note: bool = False
) -> int:
    """Show each of the lines of ``ax`` that lie on one another (a solid line drawn last would
    hide the others: four failed schemes all at the chance loss read as one). Two lines
    overlap where, at the x values they share, they are within ``tol`` of the axis's y span
    (in log10 on a log axis) at half or more of them (at least two). A line joins the group of
    the first earlier line it overlaps, so that a group's lines all lie on that one (a sweep
    of curves each close to the next is not one group). Over the longest run of x values
    where every line of a group lies on its first, each line gets a dashed copy (gid
    :data:`DASHED_GID`, no legend label) on top of the solid lines, all starting at the run's
    first x and sharing one pattern, each line a dash in turn (4 line widths, shorter for a
    large group: all its dashes fit in 80% of the run's estimated length), so that every
    color shows there; elsewhere each line stays as drawn (its own first points included). A
    group too large for dashes of 1.5 points, or with no run of two x values, gets no copies.
    More than :data:`MAX_DASHED_LINES` lines are left as they are. Call it once the axis's
    scale and limits are set. ``note``: say under the x label how many lines lie on another,
    and how many are dashed. Returns the number of lines given dashed copies."""
    if not 2 <= len(lines) <= MAX_DASHED_LINES:
        return 0
    log = ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    if log:
        if lo <= 0 or hi <= 0:
            return 0
        lo, hi = math.log10(lo), math.log10(hi)
    span = abs(hi - lo)
    if not span > 0:
        return 0
    data = []
    for line in lines:
        xs = np.asarray(line.get_xdata(), float)
        ys = np.asarray(line.get_ydata(), float)
        keep = np.isfinite(xs)  # (a NaN x is a gap: nothing drawn there)
        data.append((xs[keep].tolist(), ys[keep]))
    cols = {x: j for j, x in enumerate(sorted({x for xs, _ in data for x in xs}))}
    y = np.full((len(lines), max(len(cols), 1)), np.nan)  # (lines, x values)
    for i, (xs, ys) in enumerate(data):
        if xs:
            y[i, [cols[x] for x in xs]] = ys
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log10(y) if log else y
    y[~np.isfinite(y)] = np.nan
    shared = np.zeros((len(lines), len(lines)), dtype=np.int32)
    close = np.zeros_like(shared)
    for col in y.T:  # one x value at a time: (lines, lines) per step, not (lines, lines, x)
        both = ~np.isnan(col)
        both = both[:, None] & both[None, :]
        shared += both
        with np.errstate(invalid="ignore"):
            close += both & (np.abs(col[:, None] - col[None, :]) <= tol * span)
    groups = groups_on_first((close >= 2) & (2 * close >= shared))
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
    x0, x1 = sorted(ax.get_xlim())
    xs_all = np.array(sorted(cols), dtype=float)  # the x value of each column of y
    if ax.get_xscale() == "log":
        x0, x1 = math.log10(max(x0, 1e-300)), math.log10(max(x1, 1e-300))
        with np.errstate(divide="ignore", invalid="ignore"):
            at = np.log10(xs_all)
    else:
        at = xs_all
    scaled = mpl.rcParams["lines.scale_dashes"]
    dashed = overlapping = 0
    for members in groups:
        m = len(members)
        overlapping += m
        # where every member lies on the first one: the longest run of such x values
        rep = y[members[0]]
        on_rep = np.all(np.abs(y[members] - rep) <= tol * span, axis=0)  # (NaN: False)
        run = _longest_run(on_rep)
        if run is None or not x1 > x0 or not np.isfinite(at[run]).all():
            continue
        length = width_pt * (at[run][-1] - at[run][0]) / (x1 - x0)  # points along the x axis
        lw = max(lines[members[0]].get_linewidth(), 0.1)
        on = min(4.0 * lw, 0.8 * length / m)  # points
        if on < 1.5:  # (a dash too short to see: the group stays as drawn)
            continue
        unit = on / lw if scaled else on  # (matplotlib scales dashes by the line width)
        top = max(lines[i].get_zorder() for i in members) + 0.01
        for turn, i in enumerate(members):
            # over that run only, all starting at its first x (so the dashes keep in turn),
            # on top of the solid lines, whose own stretches stay as drawn
            xs, ys = np.asarray(data[i][0], float), data[i][1]
            keep = (xs >= xs_all[run][0]) & (xs <= xs_all[run][-1])
            ax.plot(xs[keep], ys[keep], color=lines[i].get_color(), lw=lines[i].get_linewidth(),
                    ls=dash_in_turn(turn, m, unit), zorder=top, label="_dashed",
                    gid=DASHED_GID)  # fmt: skip
        dashed += m
    if note and overlapping:
        text = f"{overlapping} mean lines on one another"
        if dashed == overlapping:
            text += ": dashed in turn"
        elif dashed:
            text += f"; {dashed} of them dashed in turn"
        ax.set_xlabel(f"{ax.get_xlabel()}\n({text})")
    return dashed


def groups_on_first(linked: np.ndarray) -> list[list[int]]:
    """Groups of lines that lie on one another, from ``linked`` (n, n) (``linked[i, j]``: line
    j lies on line i): each line joins the group of the first earlier line it lies on, so
    that a group's lines all lie on its first (lines each close to the next, a sweep, are not
    chained into one group). Groups of one are left out."""
    free = np.ones(len(linked), dtype=bool)
    groups = []
    for i in range(len(linked)):
        if free[i]:
            later = np.flatnonzero(linked[i] & free)
            members = [i, *later[later > i].tolist()]
            free[members] = False
            if len(members) > 1:
                groups.append(members)
    return groups


def dash_in_turn(turn: int, m: int, unit: float) -> tuple[float, tuple[float, float]]:
    """The line style of the ``turn``-th of ``m`` lines drawn on one another: one dash of
    ``unit`` in every ``m``, shifted by its turn, so that the ``m`` dashes tile the line."""
    return (turn * unit, (unit, (m - 1) * unit))


def _longest_run(mask: np.ndarray) -> np.ndarray | None:
    """The indices of the longest run of consecutive True values of ``mask`` (at least two),
    or None."""
    best: tuple[int, int] = (0, 0)
    start = None
    for j, v in enumerate([*mask.tolist(), False]):
        if v and start is None:
            start = j
        elif not v and start is not None:
            if j - start > best[1] - best[0]:
                best = (start, j)
            start = None
    return np.arange(*best) if best[1] - best[0] >= 2 else None


def save_figure(fig: Figure, path: Path, *, dpi: int = _DPI, exclusive: bool = False) -> Path:
    """Write ``fig`` to ``path`` (PNG, or the format its suffix names) atomically, so that a
    failed write keeps the previous file, and release it (close it in pyplot if pyplot made
    it). ``exclusive``: never replace a file at ``path`` (a UserError). Log axes with
    matplotlib's default labels get plain numbers (:func:`plain_log_labels`)."""
    import io

    from ..atomic import atomic_open
    from ..errors import UserError

    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix[1:].lower() or "png"
    try:
        plain_log_labels(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
        try:
            with atomic_open(path, exclusive=exclusive) as f:
                f.write(buf.getvalue())
        except FileExistsError:
            raise UserError(
                f"{path} was made by something else while this ran; it is kept: pass another "
                "file name"
            ) from None
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close(fig)  # a no-op for figures pyplot does not manage
    return path


def _matrix(rows_per_model: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs (E,) and values (M, E) with NaN where a model has no finite value."""
    epochs = sorted({r["epoch"] for rows in rows_per_model for r in rows})
    col = {e: j for j, e in enumerate(epochs)}
    vals = np.full((len(rows_per_model), len(epochs)), np.nan)  # (M, E)
    for i, rows in enumerate(rows_per_model):
        for r in rows:
            v = num(r.get(key))
            if v is not None:
                vals[i, col[r["epoch"]]] = v
    return np.asarray(epochs, dtype=float), vals


def _mean_std(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, std (ddof=1; 0 where one value) and count over axis 0, ignoring NaN."""
    ok = np.isfinite(vals)
    n = ok.sum(0)  # (E,)
    s = np.where(ok, vals, 0.0).sum(0)
    mean = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    dev = np.where(ok, vals - mean, 0.0)
    var = np.where(n > 1, (dev**2).sum(0) / np.maximum(n - 1, 1), 0.0)
    return mean, np.sqrt(var), n


def seed_band(vals: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band around a mean curve: ``mean ± std`` per column of ``vals`` (M, E), clipped to
    the seeds' own range (their min..max, ignoring NaN). Unclipped, a band whose std exceeds
    its mean (seeds 0.005, 0.037, 0.006) reached below 0, and on a log axis ran down to 1e-12,
    squeezing the curves into the top of the plot."""
    finite = np.where(np.isfinite(vals), vals, np.nan)
    lo = np.fmax(mean - std, np.fmin.reduce(finite, axis=0))  # (fmin/fmax: NaN-skipping)
    hi = np.fmin(mean + std, np.fmax.reduce(finite, axis=0))
    return lo, hi


def _held(vals: np.ndarray, statuses: list[str | None], last: list[int]) -> np.ndarray:
    """``vals`` (M, E) with each early-stopped model's value at its stop epoch (column
    ``last[i]``, its last row) carried to the later epochs: its weights are frozen at its
    ``final`` metrics, which the group's mean and band count (the summary's group means do)
    rather than dropping the model once it stopped. A final that is not finite (an Inf
    validation loss at the stop epoch) is not held, and not replaced by an older value: the
    summary leaves it out of the group's numbers too."""
    out = vals.copy()
    for row, status, j in zip(out, statuses, last, strict=True):
        if status == "early_stopped" and 0 <= j < row.size and np.isfinite(row[j]):
            row[j + 1 :] = row[j]
    return out


def _curve_groups(
    curves: dict[int, list[dict[str, Any]]], results: dict[int, dict[str, Any]]
) -> dict[str, list[int]]:
    """Group label -> indices of the models with metrics, in population order."""
    groups: dict[str, list[int]] = {}
    for idx, res in results.items():
        if idx in curves:
            groups.setdefault(res["group"], []).append(idx)
    for idx in curves:  # metrics of models population.json does not list
        if idx not in results:
            groups.setdefault(f"model {idx}", []).append(idx)
    return groups


def dynamics_figure(run: RunData) -> Figure | None:
    """Learning rate (of each epoch's last step) and mean gradient norm per epoch vs epoch, by
    group: mean over seeds, band = ± std for the gradient norm (:func:`seed_band`). Log scale
    where values span >30×, else a linear axis from 0 (a constant lr is a flat line, not one
    zoomed into its last digits). Returns None when metrics hold neither ``lr`` nor
    ``grad_norm``."""
    curves = run.plot_curves()
    results = {r["index"]: r for r in run.model_results()}
    groups = _curve_groups(curves, results)
    keys = [
        (k, t)
        for k, t in (("lr", "learning rate"), ("grad_norm", "gradient norm (epoch mean)"))
        if any(num(r.get(k)) is not None for rows in curves.values() for r in rows)
    ]
    if not keys:
        return None
    colors = group_colors(list(groups))
    fig = Figure(figsize=(4.4 * len(keys) + 2.2, 3.2), layout="constrained")
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    all_epochs = {float(r["epoch"]) for rows in curves.values() for r in rows}
    means: dict[Any, list[Line2D]] = {ax: [] for ax in axes}  # each group's mean line
    failed = {  # groups whose every model stopped for NaN/Inf: keyed even with nothing drawn
        g
        for g, idxs in groups.items()
        if all(results.get(i, {}).get("status") == "nan" for i in idxs)
    }
    drawn: set[str] = set()
    for ax, (key, title) in zip(axes, keys, strict=True):
        vals_all = []
        ax.set_autoscale_on(False)  # scaled once below (see curve_figure)
        for g, idxs in groups.items():
            epochs, vals = _matrix([curves[i] for i in idxs], key)  # (E,), (M, E)
            mean, std, n = _mean_std(vals)
            ok = n > 0
            if not ok.any():
                continue
            drawn.add(g)
            vals_all.append(vals[np.isfinite(vals)])
            few = ok.sum() < 3
            (line,) = ax.plot(
                epochs[ok], mean[ok], color=colors[g], lw=1.8, label=g, marker="o" if few else None
            )
            means[ax].append(line)
            if key == "grad_norm" and (n > 1).any():
                lo, hi = seed_band(vals, mean, std)
                ax.fill_between(epochs, lo, hi, where=n > 1, color=colors[g], alpha=0.18, lw=0)
        ax.set_autoscale_on(True)
        ax.autoscale_view()
        if vals_all:
            v = np.concatenate(vals_all)
            if v.min() > 0 and v.max() / v.min() > 30:
                ax.set_yscale("log")
            elif v.size and v.min() >= 0:  # from 0: a constant lr reads flat, not as noise
                ax.set_ylim(bottom=0)
        if len(all_epochs) <= 3:
            ax.set_xticks(sorted(all_epochs))
            ax.set_xlim(min(all_epochs) - 0.5, max(all_epochs) + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.set_ylabel(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    handles, labels = _legend_with_vanished(axes[0], groups, failed - drawn, colors)
    if len(groups) > 1:
        overrides = _group_overrides(groups, results, labels)
        fig.legend(*_legend_entries(handles, labels, overrides=overrides),
                   loc="outside right center", fontsize=8, frameon=False)  # fmt: skip
    for ax in axes:  # (after the legend, which keeps solid copies of the lines)
        dash_overlapping(ax, means[ax], note=True)
    return fig


def plain_text(text: Any) -> str:
    """User text (a group label, a layer name) as matplotlib draws it literally: ``$`` escaped,
    which would otherwise start a mathtext formula (``$\\foo$`` failed the report's drawing)."""
    return str(text).replace("$", r"\$")


#: legend labels wrap at this many characters (a 7-key variant's group label is ~140: on one
#: line its legend squeezed the panels to a sliver)
LEGEND_WIDTH = 45


def _legend_text(label: str) -> str:
    return textwrap.fill(plain_text(label), LEGEND_WIDTH, break_long_words=False)


def _legend_pick(n: int, shown: int, overrides: Sequence[Mapping[str, Any]] | None) -> list[int]:
    """The indices of the ``shown`` of ``n`` legend entries to keep: spread evenly (first and
    last included); with the groups' ``overrides``, first one group per value of each key that
    varies, so that a grid's every value is named (a 5 × 5 grid's evenly spread 20 of 25 left
    out the 3rd value of its last key in every row), unless those values alone are more than
    ``shown``."""
    even = [round(i * (n - 1) / (shown - 1)) for i in range(shown)]
    values: dict[str, dict[str, list[int]]] = {}
    for i, over in enumerate(overrides or []):
        for key, value in (over or {}).items():
            values.setdefault(key, {}).setdefault(repr(value), []).append(i)
    needed = [idxs for by in values.values() if len(by) > 1 for idxs in by.values()]
    if not needed or len(needed) > shown:
        return sorted(set(even))
    pick: set[int] = set()
    for idxs in needed:
        if pick.isdisjoint(idxs):
            pick.add(idxs[len(idxs) // 2])
    for i in even:
        if len(pick) >= shown:
            break
        pick.add(i)
    return sorted(pick)


def _legend_entries(
    handles: list,
    labels: list[str],
    shown: int = 20,
    overrides: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[list, list[str]]:
    """At most ``shown`` legend entries (:func:`_legend_pick`: spread evenly over the groups,
    so that their colors span the color map as the curves do, and with the groups'
    ``overrides`` naming every value of each grid key), then a line ``… N more groups``.
    Labels are drawn literally and wrapped (:func:`_legend_text`)."""
    labels = [_legend_text(label) for label in labels]
    if len(handles) <= shown:
        return handles, labels
    n = len(handles)
    pick = _legend_pick(n, shown, overrides)
    even = pick == sorted({round(i * (n - 1) / (shown - 1)) for i in range(shown)})
    extra, every = n - len(pick), round((n - 1) / (len(pick) - 1))
    which = (
        f"one in ~{every} shown" if every >= 2 and even else f"{len(pick)} of {n} shown"
    )  # (21-29: "one in ~1" would hide that some are left out)
    return (
        [handles[i] for i in pick] + [Line2D([], [], color="none")],
        [labels[i] for i in pick] + [f"… {extra} more group{'s' if extra != 1 else ''} ({which})"],
    )


def _group_overrides(
    groups: Mapping[str, list[int]], results: Mapping[int, Mapping[str, Any]], labels: list[str],
    names: Mapping[str, str] | None = None,
) -> list[Mapping[str, Any]]:  # fmt: skip
    """The overrides of the group behind each legend label (its first model's)."""
    names = names or {}
    by_label = {
        names.get(g, g): results.get(idxs[0], {}).get("overrides") or {}
        for g, idxs in groups.items()
    }
    return [by_label.get(label, {}) for label in labels]


def curve_figure(
    run: RunData,
    metric: str,
    *,
    names: Mapping[str, str] | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Figure | None:
    """Train / val / test curves of ``metric`` (``"loss"`` or ``"acc"``) vs epoch, by group.

    Each group (the models sharing one set of overrides) has one color: a thick mean line, a
    mean ± std band across its seeds (sample std, ddof=1; clipped to the seeds' min..max,
    :func:`seed_band`), and thin lines for up to
    :data:`MAX_SEED_LINES` individual seeds; an ``x`` marks where a model stopped for NaN/Inf.
    A seed's thin line ends where it stopped; an early-stopped seed stays in the mean and band
    at its final value (so the last epoch's mean is the summary's group mean), a NaN-stopped
    one leaves them.
    ``names``/``colors``: a group label's legend name and color where given (a study's name
    and color of a scheme, the same in its every figure); otherwise the label and
    :func:`group_colors`.
    Returns None when no split has values.
    """
    curves = run.plot_curves()
    results = {r["index"]: r for r in run.model_results()}
    groups = _curve_groups(curves, results)
    splits = [
        s
        for s in ("train", "val", "test")
        if any(num(r.get(f"{s}_{metric}")) is not None for rows in curves.values() for r in rows)
    ]
    if not splits:
        return None
    colors = {**group_colors(list(groups)), **(colors or {})}
    names = names or {}
    n_thin = sum(min(len(v), MAX_SEED_LINES) for v in groups.values() if len(v) > 1)
    thin_alpha = 0.35 if n_thin <= 20 else max(0.1, 0.35 * math.sqrt(20 / n_thin))
    fig = Figure(figsize=(4.4 * len(splits) + 2.2, 3.6), layout="constrained")
    axes = fig.subplots(1, len(splits), squeeze=False)[0]
    label = "loss" if metric == "loss" else "accuracy"
    lo, hi = math.inf, -math.inf
    all_epochs = {float(r["epoch"]) for rows in curves.values() for r in rows}
    means: dict[Any, list[Line2D]] = {ax: [] for ax in axes}  # each group's mean line
    vanished: set[str] = set()  # groups whose every model failed before a finite value
    for ax, split in zip(axes, splits, strict=True):
        key = f"{split}_{metric}"
        all_vals = []
        # each artist added re-ran the view's autoscaling over every artist before it (groups²
        # work: 34 s for 1,000 groups); the data limits still grow, the view is scaled once
        ax.set_autoscale_on(False)
        unseen = 0  # NaN-stopped models with no finite value to put their x on
        for g, idxs in groups.items():
            color = colors[g]
            epochs, vals = _matrix([curves[i] for i in idxs], key)  # (E,), (M, E)
            failed = [results.get(i, {}).get("status") == "nan" for i in idxs]
            gone = sum(
                f and not np.isfinite(row).any() for f, row in zip(failed, vals, strict=True)
            )
            unseen += gone
            if not np.isfinite(vals).any():
                if gone:  # every model failed before a finite value: the key still names it
                    vanished.add(g)
                continue
            all_vals.append(vals[np.isfinite(vals)])
            segs = []
            for row in vals[:MAX_SEED_LINES]:
                ok = np.isfinite(row)
                if ok.sum() >= 2 and len(idxs) > 1:
                    segs.append(np.column_stack([epochs[ok], row[ok]]))
            if segs:
                ax.add_collection(
                    LineCollection(segs, colors=[color], linewidths=0.6, alpha=thin_alpha)
                )
            statuses = [results.get(i, {}).get("status") for i in idxs]
            col = {e: j for j, e in enumerate(epochs.tolist())}
            last = [col.get(float(curves[i][-1]["epoch"]), -1) if curves[i] else -1 for i in idxs]
            held = _held(vals, statuses, last)
            mean, std, n = _mean_std(held)
            ok = n > 0
            few = ok.sum() < 3  # a killed run may have one epoch: show points, not nothing
            (line,) = ax.plot(
                epochs[ok],
                mean[ok],
                color=color,
                lw=2.0,
                label=names.get(g, g),
                marker="o" if few else None,
            )
            means[ax].append(line)
            band = n > 1
            if band.any():
                lo_b, hi_b = seed_band(held, mean, std)
                ax.fill_between(epochs, lo_b, hi_b, where=band, color=color, alpha=0.18, lw=0)
            for i, row in zip(idxs, vals, strict=True):  # mark NaN stops
                if results.get(i, {}).get("status") == "nan":
                    ok_i = np.flatnonzero(np.isfinite(row))
                    if ok_i.size:
                        j = ok_i[-1]
                        ax.plot([epochs[j]], [row[j]], marker="x", color=color, ms=7, mew=2)
        if all_vals:
            v = np.concatenate(all_vals)
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
        ax.set_autoscale_on(True)
        ax.autoscale_view()
        if len(all_epochs) <= 3:  # e.g. a run killed after its first epoch
            ax.set_xticks(sorted(all_epochs))
            ax.set_xlim(min(all_epochs) - 0.5, max(all_epochs) + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"{split} {label}")
        ax.set_xlabel("epoch")
        if unseen:
            s_ = "s" if unseen != 1 else ""
            ax.set_xlabel(f"epoch\n({unseen} model{s_} stopped for NaN/Inf before any finite "
                          "value: not drawn)")  # fmt: skip
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(label)
    if metric == "loss" and lo > 0 and hi / lo > 30:  # one scale for all splits
        for ax in axes:
            ax.set_yscale("log")
    handles, labels = _legend_with_vanished(axes[0], groups, vanished, colors, names)
    if len(groups) > 1 or (labels and labels[0] != DEFAULT_GROUP):
        overrides = _group_overrides(groups, results, labels, names)
        fig.legend(*_legend_entries(handles, labels, overrides=overrides),
                   loc="outside right center", fontsize=8, frameon=False)  # fmt: skip
    for ax in axes:  # (after the legend, which keeps solid copies of the lines)
        dash_overlapping(ax, means[ax], note=True)
    return fig


def _legend_with_vanished(
    ax: Any,
    groups: Mapping[str, list[int]],
    vanished: set[str],
    colors: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
) -> tuple[list, list[str]]:
    """``ax``'s legend handles and labels, with an ``x`` key, in group order, for each group in
    ``vanished`` (every model stopped for NaN/Inf before a finite value: no line to name it)."""
    names = names or {}
    handles, labels = ax.get_legend_handles_labels()
    if not vanished - {g for g in groups if names.get(g, g) in labels}:
        return handles, labels
    drawn = dict(zip(labels, handles, strict=True))
    keyed = [
        (names.get(g, g), drawn.get(names.get(g, g)) or Line2D(
            [], [], color=colors[g], marker="x", ls="none", ms=7, mew=2))
        for g in groups
        if names.get(g, g) in drawn or g in vanished
    ]  # fmt: skip
    return [h for _, h in keyed], [k for k, _ in keyed]


def _diag_groups(run: RunData) -> dict[int, str]:
    """Model index -> group label for diagnostics panels."""
    return {int(m["index"]): group_label(m) for m in run.models}


def diagnostics_figure(run: RunData, stat: str) -> Figure | None:
    """Per-layer ``stat`` vs step from ``diagnostics.jsonl``: one panel per group, one line per
    layer (color = depth, dark to light), each line the mean over the group's seeds.

    Log scale for ``act_std``, ``grad_norm`` and ``update_ratio``; a mean of exactly 0 there (a
    layer whose activations collapsed, a model that stopped updating) is marked ▼ at the bottom
    edge. Zeros count in the means. A step where a seed's value is NaN/Inf has no mean (the
    table beside the figure says so, never averaging it away): it is marked ▲ at the top edge.
    Returns None when no record has a value for ``stat``.
    """
    gmap = _diag_groups(run)
    layers: dict[str, int] = {}
    acc: dict[tuple[str, str], dict[float, list[float]]] = {}
    log = stat in _LOG_STATS
    for rec in run.diagnostics_held():
        raw = rec.get(stat)
        v = num(raw)
        if v is None:
            if not (isinstance(raw, float) and not math.isfinite(raw)):
                continue
            v = math.nan  # a NaN/Inf seed: the step gets no mean (marked ▲)
        m = int(rec.get("model", 0) or 0)
        g = gmap.get(m, f"model {m}" if gmap else "all models")
        layer = str(rec["layer"])
        layers.setdefault(layer, len(layers))
        acc.setdefault((g, layer), {}).setdefault(float(rec["step"]), []).append(v)
    if not acc:
        return None
    groups = list(dict.fromkeys(g for g, _ in acc))
    shown, hidden = groups[:MAX_DIAG_PANELS], groups[MAX_DIAG_PANELS:]
    ncols = min(4, len(shown))
    nrows = math.ceil(len(shown) / ncols)
    # manual layout: constrained layout costs ~2x here on 12 panels (measured: 1.3 s vs 2.2 s
    # per figure on a loaded 2-core machine); bbox_inches="tight" at save keeps the legend.
    h = 2.7 * nrows + 0.5
    fig = Figure(figsize=(3.4 * ncols + 1.2, h))
    axes = fig.subplots(
        nrows, ncols, squeeze=False, sharex=True, sharey=True,
        gridspec_kw={"hspace": 0.32, "wspace": 0.06, "left": 0.08, "right": 0.98,
                     "top": 1 - 0.5 / h, "bottom": 0.55 / h},
    )  # fmt: skip
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    nl = len(layers)
    zero_seen = bad_seen = False
    for k, ax in enumerate(axes.flat):
        if k >= len(shown):
            ax.set_visible(False)
            continue
        g = shown[k]
        for layer, depth in layers.items():
            series = acc.get((g, layer))
            if not series:
                continue
            steps = np.array(sorted(series))
            mean = np.array([np.mean(series[s]) for s in steps])  # NaN where a seed is
            color = cmap(0.9 * depth / max(nl - 1, 1))
            bad = np.isnan(mean)
            shown_pts = ~bad & (mean > 0 if log else True)
            ax.plot(
                steps[shown_pts],
                mean[shown_pts],
                color=color,
                lw=1.4,
                label=layer,
                marker="." if shown_pts.sum() < 3 else None,
            )
            if bad.any():  # a NaN/Inf seed: no mean, a mark at the top edge
                ax.plot(steps[bad], np.ones(int(bad.sum())), "^", color=color, ms=5,
                        label=layer, transform=ax.get_xaxis_transform(), clip_on=False)  # fmt: skip
                bad_seen = True
            if log and not (shown_pts | bad).all():  # 0 has no place on a log axis: mark it
                zero_steps = steps[~shown_pts & ~bad]
                ax.plot(zero_steps, np.zeros(len(zero_steps)), "v", color=color, ms=5,
                        label=layer, transform=ax.get_xaxis_transform(), clip_on=False)  # fmt: skip
                zero_seen = True
        if log:
            ax.set_yscale("log")
        elif stat in _FRACTION_STATS:  # a share of units: the whole 0..1, so 2% reads small
            ax.set_ylim(-0.02, 1.02)
        if groups != [DEFAULT_GROUP]:  # (one group of plain seeds: nothing to tell apart)
            ax.set_title(plain_text(g), fontsize=9)
        ax.grid(alpha=0.3)
    for col in range(ncols):  # the lowest shown panel of each column carries the step axis
        lowest = max(r for r in range(nrows) if axes[r, col].get_visible())
        axes[lowest, col].xaxis.set_tick_params(labelbottom=True)
        axes[lowest, col].set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel(STAT_TITLES.get(stat, stat))
    title = f"{STAT_TITLES.get(stat, stat)} per layer (mean over seeds)"
    if hidden:
        title += f"; {len(hidden)} more group{'s' if len(hidden) != 1 else ''} not shown"
    if zero_seen:
        title += "; ▼ = 0"
    if bad_seen:
        title += "; ▲ = NaN/Inf in a seed"
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / h)
    from matplotlib.lines import Line2D

    # one entry per layer, whichever panel shows it
    labels = list(layers)
    handles = [Line2D([], [], color=cmap(0.9 * layers[n] / max(nl - 1, 1)), lw=1.4) for n in labels]
    if nl > 12:  # first, a few in the middle, last
        keep = sorted({0, nl // 3, 2 * nl // 3, nl - 1})
        handles = [handles[i] for i in keep]
        labels = [labels[i] for i in keep]
    labels = [_legend_text(n) for n in labels]
    fig.legend(
        handles, labels, loc="center left", bbox_to_anchor=(0.985, 0.5), fontsize=8,
        frameon=False, title="layer",
    )  # fmt: skip
    return fig
