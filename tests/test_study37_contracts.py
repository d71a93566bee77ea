"""Review (study37): what a teacher reads in the quick studies' texts — do the verdicts and the
numbers printed next to them agree? Hand-made inputs to the functions that build the text."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

from conftest import pretraining_rows
from trainlab.studies import optimizers, pretraining
from trainlab.studies.cells import pm


def test_pretraining_gap_of_equal_size_with_opposite_sign_is_not_contradicted():
    """Wrong: `trainlab study pretraining --quick` (seeds 0-2; these are its measured cell
    means/stds) prints "with ReLU and He init the gap narrows (-13.8 ± 3.8 points ReLU vs
    +16.7 ± 2.7 points sigmoid ...): contradicted: it reverses". The module docstring defines
    the gap as |gain| "whatever its sign", and the code's own comment says only a gap that
    *grows* is "reversed"/contradicted; here |gain| is 13.8 vs 16.7, a difference of 2.9
    points against a standard error of ~4.7 (Welch), i.e. within seed noise. Expected: not
    "contradicted" (inconclusive on the gap's size, the reversal may be stated); got
    "contradicted: it reverses (pre-training hurts the ReLU nets)"."""
    measured = {
        ("sigmoid", 0.01, "random"): (0.4382544103992572, 0.041720783544402916),
        ("sigmoid", 0.01, "dbn"): (0.6128133704735376, 0.02210934243229463),
        ("sigmoid", 0.01, "sdae"): (0.5970287836583101, 0.03781877781692905),
        ("sigmoid", 1.0, "random"): (0.72330547818013, 0.014020119656955852),
        ("sigmoid", 1.0, "dbn"): (0.8857938718662952, 0.005571030640668495),
        ("sigmoid", 1.0, "sdae"): (0.9062209842154131, 0.024015816446383564),
        ("relu", 0.01, "random"): (0.5858867223769731, 0.03080902511241792),
        ("relu", 0.01, "dbn"): (0.4484679665738162, 0.08471814109050448),
        ("relu", 0.01, "sdae"): (0.44661095636026005, 0.07880268298131382),
        ("relu", 1.0, "random"): (0.9610027855153204, 0.007369780810764828),
        ("relu", 1.0, "dbn"): (0.8254410399257196, 0.05710872540271782),
        ("relu", 1.0, "sdae"): (0.8904363974001858, 0.0128657441602145),
    }
    _, verdicts = pretraining._findings(
        pretraining_rows(measured, 3), ["digits"], [3], [0.01, 0.1, 1.0]
    )
    claim = next(v for v in verdicts if "the gap narrows" in v)
    sizes = [float(x) for x in re.findall(r"([+-]\d+\.\d) ± ", claim)]
    assert abs(abs(sizes[0]) - abs(sizes[1])) < 3.0, claim  # |gain| 13.8 vs 16.7
    verdict = claim.rsplit("): ", 1)[1]
    assert not verdict.startswith("contradicted"), verdict


def test_pretraining_verdict_states_the_bound_it_judges_by():
    """Wrong: the pretraining report shows each gain as "mean ± standard error" and a verdict,
    but never the rule (two-sided 95% Student-t bound with Welch's dof) nor the bound itself, so
    "+10.0 ± 2.9 points ...: inconclusive (within seed noise)" — a gain of 3.4 standard
    errors — cannot be checked by a reader from the numbers shown (the bound here is
    t(dof≈2.2)·se ≈ 12 points). The optimizers study prints "Δ ..., 95% bound ±... (Welch dof
    ...)" next to each verdict. Expected: the text that carries the verdict states the 95%
    bound (or the criterion); got only "± 2.9 points"."""
    cells = {}
    for frac in (0.01, 1.0):
        cells[("sigmoid", frac, "random")] = (0.50, 0.05)
        cells[("sigmoid", frac, "dbn")] = cells[("sigmoid", frac, "sdae")] = (0.60, 0.01)
        cells[("relu", frac, "random")] = (0.60, 0.01)
        cells[("relu", frac, "dbn")] = cells[("relu", frac, "sdae")] = (0.60, 0.01)
    findings, verdicts = pretraining._findings(
        pretraining_rows(cells, 3), ["digits"], [3], [0.01, 0.1, 1.0]
    )
    helps = verdicts[0]
    assert "+10.0 ± 2.9 points" in helps and helps.endswith("inconclusive (within seed noise)")
    text = " ".join(findings + verdicts)
    assert "bound" in text or "95%" in text, helps


def test_optimizers_claim_percentage_rounds_as_the_table_does():
    """Wrong: in `trainlab study optimizers --quick` Adam's test accuracies 0.600 and 0.585
    (mean 0.5925000000000000266...) read "0.593 ± 0.011" in the "Best LR per optimizer" table
    but "59.2% ± 1.1%" in the claims table, next to "momentum − Adam: Δ -1.65 points" with
    momentum at 57.6% (57.6 − 59.2 = −1.6): `f"{x:.1%}"` multiplies by 100 in float (59.25,
    a tie, rounded to even) instead of rounding the value itself. Expected (decimal rounding of
    the exact mean, as the table's 0.593): "59.3%"; got "59.2%"."""
    vals = [0.6, 0.585]
    mean = sum(vals) / len(vals)
    exact = (Decimal(mean) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    assert str(exact) == "59.3" and pm(vals).startswith("0.593")
    assert optimizers._ms(vals, pct=True).startswith(f"{exact}%"), optimizers._ms(vals, pct=True)
