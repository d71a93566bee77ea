"""Aggregation across seeds: mean, sample standard deviation and a Student-t 95% interval."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["aggregate", "sample_std"]


def _finite(values: Iterable[Any]) -> list[float]:
    out = []
    for v in values:
        if v is None:
            continue
        try:
            f = float(v)
        except OverflowError:  # an int beyond float's range: infinite as a float, left out
            continue
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
    ``n`` counts the finite values that were used (a bool counts as 1 or 0, as in numpy).

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
    mean, std, e = _scaled_mean_std(xs)
    if n == 1:
        return {"mean": _ldexp(mean, e), "std": 0.0, "ci95": None, "n": 1}
    from scipy.stats import t  # scipy comes with scikit-learn; imported here to keep import light

    ci95 = float(t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return {"mean": _ldexp(mean, e), "std": _ldexp(std, e), "ci95": _ldexp(ci95, e), "n": n}


def _scaled_mean_std(xs: list[float]) -> tuple[float, float, int]:
    """``(mean, std, e)`` of the finite ``xs`` (at least one), both scaled by ``2^-e``.

    Computed on the values scaled by 2^-e (exact, ldexp) to a largest magnitude in [0.5, 1):
    huge ones (a diverged float64 loss) would overflow sums and squares, where fsum and ** raise
    rather than give inf; tiny ones (1e-170, subnormals) would square to 0 and read as no
    spread. Equal values have a spread of exactly 0 (a mean rounded from their sum would leave
    residuals of ~1e-17: a spread that is not there, which a t-test believes).
    """
    e = math.frexp(max(abs(x) for x in xs))[1]
    xs = [math.ldexp(x, -e) for x in xs]
    if all(x == xs[0] for x in xs):  # (one value, too)
        return xs[0], 0.0, e
    mean = math.fsum(xs) / len(xs)
    return mean, math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)), e


def _ldexp(x: float, e: int) -> float:
    """``x · 2^e``; ±inf beyond the float range (where ``math.ldexp`` raises)."""
    try:
        return math.ldexp(x, e)
    except OverflowError:
        return math.copysign(math.inf, x)


def sample_std(values: Iterable[Any]) -> float:
    """The sample standard deviation (ddof 1) of the finite ``values``, as :func:`aggregate`
    computes it: 0.0 for fewer than two, and exactly 0.0 for equal values."""
    xs = _finite(values)
    return _ldexp(*_scaled_mean_std(xs)[1:]) if len(xs) > 1 else 0.0
