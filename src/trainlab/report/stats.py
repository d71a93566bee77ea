"""Aggregation across seeds: mean, sample standard deviation and a Student-t 95% interval."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["aggregate"]


def _finite(values: Iterable[Any]) -> list[float]:
    out = []
    for v in values:
        if v is None or isinstance(v, bool):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise TypeError(
                f"aggregate() needs numbers, got {type(v).__name__} {v!r}; pass floats or None"
            ) from None
        if math.isfinite(f):
            out.append(f)
    return out


def aggregate(values: Iterable[Any]) -> dict[str, float | int | None]:
    """Summarize one metric over seeds: ``{"mean", "std", "ci95", "n"}``.

    ``None``, NaN and ±Inf entries (models stopped for NaN, metrics never reached) are left out;
    ``n`` counts the finite values that were used.

    - ``mean`` = Σx/n
    - ``std`` = √(Σ(x − mean)² / (n − 1))  (sample standard deviation, ddof = 1)
    - ``ci95`` = t₀.₉₇₅,ₙ₋₁ · std / √n  — the half-width of the two-sided 95% confidence interval
      of the mean under a normal model (Student 1908; ``scipy.stats.t.ppf``), so the interval is
      ``mean ± ci95``.

    Edge cases: ``n = 1`` gives ``std = 0.0`` and ``ci95 = None`` (one seed says nothing about the
    spread); ``n = 0`` gives ``mean = std = ci95 = None``. All numbers are plain Python floats, so
    the result can be written to JSON as it is.
    """
    xs = _finite(values)
    n = len(xs)
    if n == 0:
        return {"mean": None, "std": None, "ci95": None, "n": 0}
    # the values are summed scaled by 2^-e (exact) to a largest magnitude in [0.5, 1): huge
    # ones (a diverged float64 loss) would overflow sums and squares, where fsum and ** raise
    # rather than give inf; tiny ones (1e-170) would square to 0 and read as no spread
    top = max(abs(x) for x in xs)
    scale = 2.0 ** -math.frexp(top)[1] if top > 0 else 1.0
    xs = [x * scale for x in xs]
    mean = math.fsum(xs) / n
    if n == 1:
        return {"mean": mean / scale, "std": 0.0, "ci95": None, "n": 1}
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1)) / scale
    mean /= scale
    from scipy.stats import t  # scipy comes with scikit-learn; imported here to keep import light

    ci95 = float(t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci95": ci95, "n": n}
