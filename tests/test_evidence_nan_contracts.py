"""A cell whose models diverged has a NaN/Inf sample std: ``welch`` gives no noise estimate
(NaN) and ``judge`` says "not judged (no finite measurement…)"; the bound printed beside it
must say why there is none, not "95% bound ±nan (Welch dof nan)", and a NaN difference has no
sign ("Δ -nan" read as a decrease)."""

from __future__ import annotations

import math

from trainlab.studies.evidence import bound_text, delta_text, judge, welch


def test_the_bound_of_a_diverged_cell_says_why_there_is_none():
    se, dof = welch([(math.nan, 5), (0.01, 5)])
    assert judge(0.2, se, dof).startswith("not judged")
    text = bound_text(se, dof)
    assert "nan" not in text.lower()
    assert text == "no noise estimate (diverged models)"


def test_a_nan_difference_prints_without_a_sign():
    text = delta_text(math.nan, 0.01, 4.0, "{:.3f}".format)
    assert text.startswith("Δ nan, 95% bound ±")
    assert delta_text(-0.5, 0.01, 4.0, "{:.3f}".format).startswith("Δ -0.500, ")
    assert delta_text(0.0, 0.01, 4.0, "{:.3f}".format).startswith("Δ +0.000, ")
