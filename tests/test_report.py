"""Tests for trainlab.report: aggregation, the standard report, study sections, bad files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from trainlab.report import aggregate


def test_aggregate_matches_scipy_t_interval():
    x = [0.5, 0.6, 0.7, 0.65, 0.61]
    a = aggregate(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert a["n"] == 5
    assert a["mean"] == pytest.approx(np.mean(x))
    assert a["std"] == pytest.approx(np.std(x, ddof=1))
    assert a["ci95"] == pytest.approx((hi - lo) / 2)


def test_aggregate_edge_cases():
    assert aggregate([0.3]) == {"mean": 0.3, "std": 0.0, "ci95": None, "n": 1}
    assert aggregate([]) == {"mean": None, "std": None, "ci95": None, "n": 0}
    # None / NaN / Inf are left out and not counted
    a = aggregate([1.0, None, math.nan, math.inf, 3.0])
    assert a["n"] == 2 and a["mean"] == 2.0 and a["std"] == pytest.approx(math.sqrt(2))
    with pytest.raises(TypeError, match="needs numbers"):
        aggregate([1.0, "abc"])
