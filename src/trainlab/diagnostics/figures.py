"""Figures from diagnostics records: per-layer activation histograms and per-layer profiles.

Both take the records of :meth:`trainlab.diagnostics.Watch.records` (or the Watch itself, or the
lines of ``diagnostics.jsonl``) and return a matplotlib ``Figure`` (Agg; nothing is shown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["histogram_grid", "layer_profile"]

_ACT_KINDS = ("relu", "tanh", "sigmoid", "hardtanh", "hardsigmoid", "softmax", "activation")


def _figure(w: float, h: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained")


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r.get("order") is None, r.get("order") or 0))


def histogram_grid(
    records: Any,
    *,
    model: int = 0,
    steps: Sequence[int] | None = None,
    activations_only: bool = True,
    max_layers: int = 10,
) -> Any:
    """Per-layer activation histograms (CS231n lecture 7's picture): one row per sampled step
    (default: the first and the last), one column per layer in forward order.

    Each panel shows the fraction of values per fixed bin; the title gives the layer, its mean
    and std; a note gives the share of values outside the bins when it is 1% or more, and says
    so when the std is below half a bin's width (vanishing activations all fall in one or two
    bins: their scale is in the title, and in :func:`layer_profile`).
    ``activations_only`` keeps the outputs of activation modules (falls back to every layer if
    there are none). ``records``: the records, the watch, or a diagnostics.jsonl path.
    """
    from ..report.plots import plain_text  # (matplotlib: imported when drawing)
    from ..report.tables import fmt_share

    rows = [r for r in _decoded(records) if int(r.get("model", 0)) == model]
    rows = [r for r in rows if r.get("hist") is not None]
    if not rows:
        raise ValueError(f"no histogram records for model {model}; record with watch() first")
    all_steps = sorted({r["step"] for r in rows})
    steps = list(steps) if steps is not None else sorted({all_steps[0], all_steps[-1]})
    missing = [s for s in steps if s not in all_steps]
    if not steps or missing:
        shown = ", ".join(map(str, all_steps[:20])) + (" ..." if len(all_steps) > 20 else "")
        raise ValueError(
            f"steps={steps}: {'no step given' if not steps else f'{missing} not sampled'} "
            f"(model {model} has histograms at steps {shown})"
        )
    if activations_only and any(r.get("kind") in _ACT_KINDS for r in rows):
        rows = [r for r in rows if r.get("kind") in _ACT_KINDS]
    layers_at = {s: _ordered([r for r in rows if r["step"] == s]) for s in steps}
    per_step = {s: v[:max_layers] for s, v in layers_at.items()}
    shown = max(len(v) for v in layers_at.values())
    ncols = max(1, max(len(v) for v in per_step.values()))
    fig = _figure(1.9 * ncols + 0.6, 1.7 * len(steps) + 0.4)
    axes = fig.subplots(len(steps), ncols, squeeze=False, sharex=True)
    for i, s in enumerate(steps):
        for j in range(ncols):
            ax = axes[i][j]
            if j >= len(per_step[s]):
                ax.set_axis_off()
                continue
            r = per_step[s][j]
            edges = r["hist_edges"]
            counts = r["hist"]
            total = sum(counts) + r.get("hist_under", 0) + r.get("hist_over", 0)
            frac = [c / total if total else 0.0 for c in counts]
            ax.stairs(frac, edges, fill=True, alpha=0.8)
            if not sum(counts):  # nothing in the bins: say where the values went
                ax.set_ylim(0, 1)
                if r.get("nonfinite"):  # NaN lands in no bin (counted as overflow)
                    note = "NaN/Inf values"
                elif total:
                    note = f"all {total:g} values outside\n[{edges[0]:g}, {edges[-1]:g}]"
                else:
                    note = "no finite values"
                ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center",
                        fontsize=6)  # fmt: skip
            elif total - sum(counts) >= 0.01 * total:  # the bars are not the whole layer
                out = total - sum(counts)  # (the fraction of the under/over counts)
                nan = " incl. NaN/Inf" if r.get("nonfinite") else ""
                share = fmt_share(out / total)
                note = f"{share} of values{nan}\noutside [{edges[0]:g}, {edges[-1]:g}]"
                ax.text(0.98, 0.95, note, transform=ax.transAxes, ha="right", va="top",
                        fontsize=6)  # fmt: skip
            sd = r.get("act_std")
            width = min(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))
            if sum(counts) and _number(sd) and 0 <= sd < width / 2:  # (vanishing activations)
                note = f"σ below half\na bin ({width:g}):\nsee σ above"
                ax.text(0.02, 0.95, note, transform=ax.transAxes, ha="left", va="top",
                        fontsize=6)  # fmt: skip
            ax.set_title(
                f"{plain_text(r['layer'])} ({r.get('kind', '')})\n"
                f"μ={_num(r.get('act_mean'))} σ={_num(r.get('act_std'))}",
                fontsize=7,
            )
            ax.tick_params(labelsize=6)
            if j == 0:
                ax.set_ylabel(f"step {s}", fontsize=7)
    more = f", first {max_layers} of {shown} layers" if shown > max_layers else ""
    fig.suptitle(f"activation histograms per layer (model {model}{more})", fontsize=9)
    fig.supxlabel("activation value", fontsize=8)
    fig.supylabel("fraction of values per bin", fontsize=8)
    return fig


#: the most layers :func:`layer_profile` draws with its three panels side by side
_SIDE_BY_SIDE = 24
#: a profile panel's log axis spans at least this many decades (a flat layer reads flat)
_MIN_DECADES = 2


#: the per-layer statistics a record of a completed step has (some of them; a step whose
#: forward was interrupted has its weight norms only, taken as it began)
_STATISTICS = ("act_mean", "act_std", "nonfinite", "grad_norm", "out_grad_norm", "update_ratio")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def layer_profile(records: Any, *, model: int = 0) -> Any:
    """Per-layer profile at the first and last sampled step: activation std, output-gradient
    norm ‖∂L/∂y‖ (or parameter-gradient norm) and update/weight ratio, on log scales, layers
    in forward order — vanishing signals show as straight lines falling with depth.

    Each panel has one x position per layer that has the statistic at either step, the same
    for both steps; beyond 24 layers the panels are stacked, and the figure widens with the
    layer count so that every layer's name stays readable. A value that a log axis cannot show
    is marked at the bottom edge: ``v`` for 0 (e.g. a dead layer's std or gradient), ``x`` for
    NaN/Inf. ``records``: the records, the watch, or a diagnostics.jsonl path."""
    from ..report.plots import plain_text  # (matplotlib: imported when drawing)
    from .verdict import Thresholds

    rows = [r for r in _decoded(records) if int(r.get("model", 0)) == model]
    if not rows:
        raise ValueError(f"no records for model {model}; record with watch() first")
    # the first and last step with statistics (not one interrupted in its forward, Ctrl-C)
    done = [r for r in rows if any(_number(r.get(k)) for k in _STATISTICS)] or rows
    all_steps = sorted({r["step"] for r in done})
    steps = sorted({all_steps[0], all_steps[-1]})
    panels = (
        ("act_std", "activation std"),
        ("out_grad_norm", "‖∂L/∂y‖"),
        ("update_ratio", "‖Δθ‖/‖θ‖"),
    )
    # one tick label per layer (rotated, 6 pt: ~0.11 in each): side by side up to 24 layers;
    # more, the panels stacked and as wide as their labels need (a ResNet-20 has 62)
    n_layers = len({r["layer"] for r in rows})
    if n_layers <= _SIDE_BY_SIDE:
        fig = _figure(10, 3.2)
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
    else:
        longest = max(len(str(r["layer"])) for r in rows)
        fig = _figure(max(10.0, 0.13 * n_layers + 1.5), len(panels) * (2.0 + 0.055 * longest))
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (key, label) in zip(axes, panels, strict=True):
        use = key
        if key == "out_grad_norm" and not any(_pos(r.get(key)) for r in rows):
            use, label = "grad_norm", "‖∂L/∂θ‖"
        # a layer is shown when it has the statistic at some step; at a step it is a value,
        # or NaN/Inf where its output was non-finite (written as JSON null)
        has = {r["layer"] for r in rows if isinstance(r.get(use), int | float)}
        present = [r for r in rows if r["step"] in steps and _recorded(r, use, has)]
        layers = list(dict.fromkeys(r["layer"] for r in _ordered(present)))
        pos = {name: i for i, name in enumerate(layers)}
        edge = ax.get_xaxis_transform()  # x in data, y in axes coordinates (0 = bottom edge)
        zero_seen = bad_seen = plotted = False
        for n, s in enumerate(steps):
            at = {r["layer"]: r.get(use) for r in present if r["step"] == s}
            xs = [pos[name] for name in layers if name in at]
            ys = [at[name] if _pos(at[name]) else math.nan for name in layers if name in at]
            color = f"C{n}"
            if any(math.isfinite(y) for y in ys):
                ax.plot(xs, ys, marker="o", ms=3, color=color, label=f"step {s}")
                plotted = True
            zeros = [pos[name] for name in layers if name in at and at[name] == 0]
            bad = [pos[name] for name in layers if name in at and not _finite_or_zero(at[name])]
            if zeros:
                ax.plot(zeros, [0.0] * len(zeros), "v", color=color, ms=6, transform=edge,
                        clip_on=False)  # fmt: skip
                zero_seen = True
            if bad:
                ax.plot(bad, [0.0] * len(bad), "x", color=color, ms=7, mew=2, transform=edge,
                        clip_on=False)  # fmt: skip
                bad_seen = True
        ax.set_xticks(range(len(layers)), [plain_text(n) for n in layers], rotation=90, fontsize=6)
        ax.set_xlim(-0.5, max(len(layers), 1) - 0.5)
        ax.set_yscale("log")
        if key == "update_ratio":  # the verdict's default bounds, and the healthy ~1e-3
            bounds = Thresholds()
            for y in (bounds.update_low, bounds.update_high):
                ax.axhline(y, color="gray", ls=":", lw=0.8)
            ax.axhline(1e-3, color="gray", ls="--", lw=0.8)
            edge_y = ax.get_yaxis_transform()  # x in axes coordinates, y in data
            ax.text(0.01, 1e-3, " ~1e-3 healthy", transform=edge_y, fontsize=6, color="gray",
                    va="bottom")  # fmt: skip
            ax.text(0.01, bounds.update_high, " verdict bounds", transform=edge_y, fontsize=6,
                    color="gray", va="bottom")  # fmt: skip
        if not plotted:  # only edge markers (all 0 or NaN/Inf): nothing a log axis can scale to
            ax.set_ylim(1e-6, 1.0)
        else:  # at least _MIN_DECADES: a 25% drift must not look like a collapse
            lo, hi = ax.get_ylim()
            if hi < lo * 10**_MIN_DECADES:
                mid = math.sqrt(lo * hi)
                ax.set_ylim(mid / 10 ** (_MIN_DECADES / 2), mid * 10 ** (_MIN_DECADES / 2))
        ax.set_title(label, fontsize=9)
        notes = ["▼ = 0"] * zero_seen + ["× = NaN/Inf"] * bad_seen
        if notes:
            ax.set_xlabel("(at the bottom edge: " + ", ".join(notes) + ")", fontsize=6)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.supxlabel("layer, input → output (forward order)", fontsize=8)
    fig.suptitle(f"per-layer profile (model {model})", fontsize=9)
    return fig


def _decoded(records: Any) -> list[dict[str, Any]]:
    """Records with their NaN/Inf back (lines of diagnostics.jsonl name them), from the
    records, the :class:`~trainlab.diagnostics.Watch` itself or a path to diagnostics.jsonl
    (:func:`~trainlab.diagnostics.run.records_of`)."""
    from .run import records_of

    return records_of(records)


def _num(v: Any) -> str:
    """A statistic for a panel title: ``%.2g``, or ``nan`` where it was not finite (None)."""
    return f"{v:.2g}" if isinstance(v, int | float) else "nan"


def _recorded(r: dict[str, Any], key: str, has: set[str]) -> bool:
    """Whether ``r`` shows statistic ``key``: a number, or None on a non-finite output of a
    layer in ``has`` (one that has the statistic at other steps; NaN/Inf are written as JSON
    null, and a layer without the statistic has None at every step)."""
    v = r.get(key)
    if isinstance(v, int | float):
        return True
    return v is None and bool(r.get("nonfinite")) and r["layer"] in has


def _finite_or_zero(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def _pos(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and v > 0
