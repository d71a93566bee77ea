"""The optimizers study quotes accuracy differences in percentage points, two decimals. Like
its table's percentages (``_ms``), a difference rounds the float's exact value: 0.00125 is
stored as 0.00125000000000000002602… (above 1/800), i.e. 0.1250000…26 points, which is 0.13;
``f"{100 * x:.2f}"`` rounds the product 0.125 (exact in binary) to even, 0.12."""

from __future__ import annotations

import math
from fractions import Fraction

from trainlab.studies.optimizers import _noise_text


def test_a_difference_in_points_rounds_the_exact_value_not_the_product():
    assert Fraction(0.00125) > Fraction(1, 800)  # the float is above the tie
    assert f"{100 * 0.00125:.2f}" == "0.12"  # the product's half-even rounding
    assert _noise_text(0.00125, 0.001, 4.0, pct=True).startswith("Δ +0.13 points, ")
    assert _noise_text(-0.00125, 0.001, 4.0, pct=True).startswith("Δ -0.13 points, ")


def test_a_nan_difference_in_points_prints_nan():
    assert _noise_text(math.nan, 0.001, 4.0, pct=True).startswith("Δ nan points, ")
