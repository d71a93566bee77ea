"""Figures from diagnostics records: per-layer activation histograms and per-layer profiles.

Both take the records of :meth:`trainlab.diagnostics.Watch.records` (or the lines of
``diagnostics.jsonl``) and return a matplotlib ``Figure`` (Agg; nothing is shown).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["histogram_grid", "layer_profile"]

_ACT_KINDS = ("relu", "tanh", "sigmoid", "hardtanh", "hardsigmoid", "activation")


def _figure(w: float, h: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained")


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r.get("order") is None, r.get("order") or 0))


def histogram_grid(
    records: Iterable[dict[str, Any]],
    *,
    model: int = 0,
    steps: Sequence[int] | None = None,
    activations_only: bool = True,
    max_layers: int = 10,
) -> Any:
    """Per-layer activation histograms (CS231n lecture 7's picture): one row per sampled step
    (default: the first and the last), one column per layer in forward order.

    Each panel shows the fraction of values per fixed bin; the title gives the layer, its mean
    and std. ``activations_only`` keeps the outputs of activation modules (falls back to every
    layer if there are none).
    """
    rows = [r for r in records if int(r.get("model", 0)) == model and r.get("hist") is not None]
    if not rows:
        raise ValueError(f"no histogram records for model {model}; record with watch() first")
    all_steps = sorted({r["step"] for r in rows})
    steps = list(steps) if steps is not None else sorted({all_steps[0], all_steps[-1]})
    if activations_only and any(r.get("kind") in _ACT_KINDS for r in rows):
        rows = [r for r in rows if r.get("kind") in _ACT_KINDS]
    per_step = {s: _ordered([r for r in rows if r["step"] == s])[:max_layers] for s in steps}
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
            ax.set_title(
                f"{r['layer']} ({r.get('kind', '')})\nμ={r['act_mean']:.2g} σ={r['act_std']:.2g}",
                fontsize=7,
            )
            ax.tick_params(labelsize=6)
            if j == 0:
                ax.set_ylabel(f"step {s}", fontsize=7)
    fig.suptitle(f"activation histograms per layer (model {model})", fontsize=9)
    return fig


def layer_profile(records: Iterable[dict[str, Any]], *, model: int = 0) -> Any:
    """Per-layer profile at the first and last sampled step: activation std, output-gradient
    norm ‖∂L/∂y‖ (or parameter-gradient norm) and update/weight ratio, on log scales, layers
    in forward order — vanishing signals show as straight lines falling with depth."""
    rows = [r for r in records if int(r.get("model", 0)) == model]
    if not rows:
        raise ValueError(f"no records for model {model}; record with watch() first")
    all_steps = sorted({r["step"] for r in rows})
    steps = sorted({all_steps[0], all_steps[-1]})
    panels = (
        ("act_std", "activation std"),
        ("out_grad_norm", "‖∂L/∂y‖"),
        ("update_ratio", "‖Δθ‖/‖θ‖"),
    )
    fig = _figure(10, 3)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, label) in zip(axes, panels, strict=True):
        use = key
        if key == "out_grad_norm" and not any(_pos(r.get(key)) for r in rows):
            use, label = "grad_norm", "‖∂L/∂θ‖"
        for s in steps:
            sel = [r for r in _ordered([r for r in rows if r["step"] == s]) if _pos(r.get(use))]
            if sel:
                ax.plot(range(len(sel)), [r[use] for r in sel], marker="o", ms=3, label=f"step {s}")
                ax.set_xticks(range(len(sel)), [r["layer"] for r in sel], rotation=90, fontsize=6)
        ax.set_yscale("log")
        ax.set_title(label, fontsize=9)
        if key == "update_ratio":
            ax.axhline(1e-3, color="gray", ls="--", lw=0.8)
        ax.legend(fontsize=7)
    fig.suptitle(f"per-layer profile (model {model})", fontsize=9)
    return fig


def _pos(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and v > 0
