"""How the studies judge a measured difference against seed noise.

A study compares means over seeds (``n`` models per cell). A difference ``d`` with standard
error ``se`` counts as real when ``|d| > t · se``, with ``t`` the two-sided 95% quantile of
Student's t distribution with ``dof`` degrees of freedom (Welch 1947 for two cells with
unequal variances). With few seeds ``t`` is large (``dof = 1``: 12.7; ``dof = 2``: 4.30;
``dof = 4``: 2.78; ``dof = 30``: 2.04), which is the point: two or three seeds rarely support a
claim. One seed per cell (``dof < 1``) has no noise estimate at all, and nothing is judged;
nor when every seed of every cell agrees exactly (a zero sample spread, common for two draws of
a discrete measure such as a test accuracy or a count, estimates no noise either).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

__all__ = ["t_critical", "welch", "judge", "bound_text", "delta_text", "CONFIRMED", "CONTRADICTED"]

CONFIRMED = "confirmed"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive (within seed noise)"
UNTESTABLE = "not judged (one seed per cell: no noise estimate)"
NOT_FINITE = "not judged (no finite measurement: diverged models)"
NO_SPREAD = "not judged (every seed agrees exactly: no noise estimate)"


def t_critical(dof: float, level: float = 0.95) -> float:
    """Two-sided ``level`` quantile of Student's t with ``dof`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, dof))


def welch(cells: Sequence[tuple[float, int]]) -> tuple[float, float]:
    """``(se, dof)`` of a sum or difference of cell means, each cell given as ``(std, n)``
    (sample std over its ``n`` seeds): ``se = sqrt(sum s²/n)`` and the Welch-Satterthwaite
    degrees of freedom ``se⁴ / sum (s²/n)² / (n - 1)``. ``dof`` is 0 when a cell has one seed.
    """
    if any(n < 2 for _, n in cells):
        return 0.0, 0.0
    top = max(abs(s) for s, _ in cells)
    if not math.isfinite(top):  # a std that is NaN or Inf (diverged seeds): no estimate
        return math.nan, math.nan
    if top == 0.0:  # every seed agrees exactly: a zero spread, which estimates no noise
        return 0.0, math.inf
    # in units of the largest std, so that neither s² nor its square overflows or underflows
    parts = [(s / top) ** 2 / n for s, n in cells]
    var = sum(parts)
    den = sum(p * p / (n - 1) for p, (_, n) in zip(parts, cells, strict=True))
    return top * math.sqrt(var), var * var / den


def judge(diff: float, se: float, dof: float, level: float = 0.95) -> str:
    """``confirmed`` when ``diff > t·se``, ``contradicted`` when ``diff < -t·se``, else
    inconclusive; nothing is judged with ``dof < 1`` (a single seed), with ``se = 0`` (every
    seed agrees exactly) or when a number is NaN (a cell whose models diverged)."""
    if any(math.isnan(x) for x in (diff, se, dof)):
        return NOT_FINITE
    if dof < 1:
        return UNTESTABLE
    if se == 0.0:
        return NO_SPREAD
    bound = t_critical(dof, level) * se
    if diff > bound:
        return CONFIRMED
    if diff < -bound:
        return CONTRADICTED
    return INCONCLUSIVE


def bound_text(se: float, dof: float, num: Callable[[float], str] = "{:.4f}".format) -> str:
    """The 95% bound a difference must exceed to count (``t·se``, Welch's dof), or why there is
    none; ``num`` formats the bound in the difference's unit."""
    if math.isnan(se) or math.isnan(dof):  # (welch of a cell with a NaN/Inf std)
        return "no noise estimate (diverged models)"
    if dof < 1:
        return "one seed per cell: no noise estimate"
    if se == 0.0:
        return "every seed agrees exactly: no noise estimate"
    return f"95% bound ±{num(t_critical(dof) * se)} (Welch dof {dof:.1f})"


def delta_text(diff: float, se: float, dof: float, num: Callable[[float], str]) -> str:
    """``Δ`` and the 95% bound it must exceed to count (:func:`bound_text`), both formatted by
    ``num`` in the difference's unit."""
    sign = "" if math.isnan(diff) else "+" if diff >= 0 else "-"
    return f"Δ {sign}{num(abs(diff))}, {bound_text(se, dof, num)}"
