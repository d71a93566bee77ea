"""Mutation review mut39m: the claim rules and texts of `trainlab study pretraining`
(pretraining._findings / _given_it_helps), fed hand-made cell rows. Expected numbers are
computed here by hand (Welch-Satterthwaite with scipy.stats.t), never by trainlab."""

from __future__ import annotations

import math
import re

from scipy.stats import t as student_t

from trainlab.studies import pretraining

FRACTIONS = [0.01, 0.1, 1.0]


def _rows(cells: dict[tuple[str, int, float, str], tuple[float, float]], n: int) -> list[dict]:
    """``cells[(activation, depth, labels, method)] = (mean, std)`` over ``n`` seeds."""
    return [
        {"data": "digits", "activation": act, "depth": d, "labels": frac, "method": m,
         "test_acc_mean": mean, "test_acc_std": std, "n": n}
        for (act, d, frac, m), (mean, std) in cells.items()
    ]  # fmt: skip


def _cell(cells, act, depth, frac, random, pre, std, dbn=None) -> None:
    """One (activation, depth, fraction) cell: random's mean, DBN's and SDAE's mean, one std."""
    cells[(act, depth, frac, "random")] = (random, std)
    cells[(act, depth, frac, "dbn")] = (pre if dbn is None else dbn, std)
    cells[(act, depth, frac, "sdae")] = (pre, std)


def _bound(stds_n: list[tuple[float, int]]) -> tuple[float, float]:
    """Hand Welch: (t_0.975(dof) * se, dof) of a sum of means with these (std, n)."""
    v = [s * s / n for s, n in stds_n]
    se = math.sqrt(sum(v))
    dof = sum(v) ** 2 / sum(x * x / (n - 1) for x, (_, n) in zip(v, stds_n, strict=True))
    return float(student_t.ppf(0.975, dof)) * se, dof


def _gain_noise(std: float, n: int) -> list[tuple[float, int]]:
    # gain = (DBN + SDAE)/2 - random: DBN's and SDAE's std enter halved
    return [(std / 2, n), (std / 2, n), (std, n)]


def _verdict(claim: str) -> str:
    return claim.rsplit("): ", 1)[1]


# kills pretraining.py:440 d_min = max(depths) (the shallow gain read at the deepest depth),
# :495 bound(sig_c, shallow_c) -> bound(sig_c) (the bound must carry both depths' noise) and
# :496 judge(sig - shallow) -> judge(shallow - sig) (a gain growing 5 -> 20 points is "grows").
def test_benefit_grows_with_depth_uses_the_shallowest_depth_and_both_noises() -> None:
    cells: dict = {}
    for frac in (0.01, 1.0):
        _cell(cells, "sigmoid", 3, frac, 0.50, 0.55, 0.01)  # +5 points at depth 3
        _cell(cells, "sigmoid", 5, frac, 0.50, 0.70, 0.02)  # +20 points at depth 5
        _cell(cells, "relu", 3, frac, 0.60, 0.60, 0.01)
        _cell(cells, "relu", 5, frac, 0.60, 0.60, 0.01)
    _, verdicts = pretraining._findings(_rows(cells, 5), ["digits"], [3, 5], FRACTIONS)
    claim = next(v for v in verdicts if "grows with depth" in v)
    assert "+5.0 ± " in claim and "at depth 3 vs +20.0 ± " in claim and "at depth 5" in claim
    b, dof = _bound(_gain_noise(0.02, 5) + _gain_noise(0.01, 5))
    assert f"95% bound ±{b * 100:.1f} points (Welch dof {dof:.1f})" in claim, claim
    assert _verdict(claim) == "confirmed", claim  # 15 points >> the bound (~2.9 points)


# kills pretraining.py:465 x * 100 -> x * 10 (the bound is in points, like the gain),
# :485 bound(sig_c) -> bound(sig_c, sig_all_c) (the "helps" claim judges one gain) and
# :488 bound(sig_c, sig_all_c) -> bound(sig_c) (the "scarce" claim judges a difference of two).
def test_each_claim_states_the_bound_of_its_own_difference() -> None:
    cells: dict = {}
    _cell(cells, "sigmoid", 3, 0.01, 0.50, 0.60, 0.03)
    _cell(cells, "sigmoid", 3, 1.0, 0.90, 0.91, 0.01)
    _cell(cells, "relu", 3, 0.01, 0.60, 0.60, 0.01)
    _cell(cells, "relu", 3, 1.0, 0.90, 0.90, 0.01)
    _, (helps, scarce, _, _) = pretraining._findings(_rows(cells, 4), ["digits"], [3], FRACTIONS)
    b1, dof1 = _bound(_gain_noise(0.03, 4))
    b2, dof2 = _bound(_gain_noise(0.03, 4) + _gain_noise(0.01, 4))
    assert f"; 95% bound ±{b1 * 100:.1f} points (Welch dof {dof1:.1f}))" in helps, helps
    assert f"; 95% bound ±{b2 * 100:.1f} points (Welch dof {dof2:.1f}))" in scarce, scarce
    # +10 vs bound b1 (about 6 points): confirmed; 10 - 1 = 9 points vs b2: confirmed
    assert b1 < 0.10 and b2 < 0.09
    assert _verdict(helps) == "confirmed" and _verdict(scarce) == "confirmed"


# kills pretraining.py:470 (few, 1.0) -> (few,): the findings state the gains with all labels
# too, for each activation (README/docstring: 1% and 100% labels are reported).
def test_findings_give_the_gain_with_few_and_with_all_labels() -> None:
    cells: dict = {}
    _cell(cells, "sigmoid", 3, 0.01, 0.50, 0.60, 0.02)  # +10.0
    _cell(cells, "sigmoid", 3, 1.0, 0.90, 0.93, 0.02)  # +3.0
    _cell(cells, "relu", 3, 0.01, 0.60, 0.56, 0.02)  # -4.0
    _cell(cells, "relu", 3, 1.0, 0.95, 0.94, 0.02)  # -1.0
    findings, _ = pretraining._findings(_rows(cells, 3), ["digits"], [3], FRACTIONS)
    se = math.sqrt(sum(s * s / n for s, n in _gain_noise(0.02, 3)))  # 2.4 points
    pm = f"± {se * 100:.1f} points"
    want = {("sigmoid", "1%"): "+10.0", ("sigmoid", "100%"): "+3.0",
            ("relu", "1%"): "-4.0", ("relu", "100%"): "-1.0"}  # fmt: skip
    assert len(findings) == 4, findings
    for (act, pct), gain in want.items():
        f = next(x for x in findings if x.startswith(f"digits, {act}, {pct} of the labels"))
        assert f.endswith(f"depth 3: {gain} {pm}"), f


# kills pretraining.py:445 `< 2` -> `< 1` and :450 `< 2` -> `< 1`: one seed per cell measures
# no spread, so no "±" (a fake "± 0.0 points") and no "(± standard error over seeds)".
def test_one_seed_prints_no_standard_error() -> None:
    cells: dict = {}
    for frac in (0.01, 1.0):
        _cell(cells, "sigmoid", 3, frac, 0.50, 0.60, 0.0)
        _cell(cells, "relu", 3, frac, 0.60, 0.60, 0.0)
    findings, verdicts = pretraining._findings(_rows(cells, 1), ["digits"], [3], FRACTIONS)
    text = " ".join(findings + verdicts)
    assert "±" not in text.replace("95% bound ±", ""), text
    assert "standard error" not in text
    assert "depth 3: +10.0 points" in findings[0]
    assert verdicts[0].endswith("not judged (one seed per cell: no noise estimate)")


# kills pretraining.py:430 `if helps == INCONCLUSIVE` -> `if False` (the size claim must say why
# it is not confirmed: the gain itself is within noise, the claim above) and :432 `return helps`
# -> `return verdict` (a gain whose seeds agree exactly is not judged, so neither is its size).
def test_size_claim_follows_an_unjudged_or_inconclusive_gain() -> None:
    # sigmoid +5 points with 1% labels but a 6-point std (n=5): within noise (bound ~8 points);
    # -30 points with all labels (std 0.01): the difference 35 points is far beyond its bound
    cells: dict = {}
    _cell(cells, "sigmoid", 3, 0.01, 0.50, 0.55, 0.06)
    _cell(cells, "sigmoid", 3, 1.0, 0.90, 0.60, 0.01)
    _cell(cells, "relu", 3, 0.01, 0.60, 0.60, 0.01)
    _cell(cells, "relu", 3, 1.0, 0.90, 0.90, 0.01)
    _, (helps, scarce, _, _) = pretraining._findings(_rows(cells, 5), ["digits"], [3], FRACTIONS)
    b1, _ = _bound(_gain_noise(0.06, 5))
    b2, _ = _bound(_gain_noise(0.06, 5) + _gain_noise(0.01, 5))
    assert b1 > 0.05 and b2 < 0.35  # hand check of the premise
    assert _verdict(helps) == "inconclusive (within seed noise)"
    assert _verdict(scarce).startswith("inconclusive") and "the claim above" in scarce, scarce
    # every seed of the 1%-label sigmoid cells agrees exactly: "helps" is not judged, so the
    # "scarce" claim (whose difference has noise from the all-labels cells) is not confirmed
    cells = {}
    _cell(cells, "sigmoid", 3, 0.01, 0.50, 0.60, 0.0)
    _cell(cells, "sigmoid", 3, 1.0, 0.90, 0.60, 0.01)
    _cell(cells, "relu", 3, 0.01, 0.60, 0.60, 0.01)
    _cell(cells, "relu", 3, 1.0, 0.90, 0.90, 0.01)
    _, (helps, scarce, _, _) = pretraining._findings(_rows(cells, 5), ["digits"], [3], FRACTIONS)
    assert _verdict(helps).startswith("not judged")
    assert _verdict(scarce) == _verdict(helps), scarce


# kills pretraining.py:502 side = copysign(1, sig) -> 1.0 (a significant loss with sigmoid and a
# significant gain with ReLU also reverse), :510 'hurts' if sig > 0 -> sig < 0 (which way it
# reverses) and :511 abs(relu) -> relu (the gap's sizes are |gain|, as the docstring defines).
def test_gap_reversal_in_either_direction_states_the_sizes() -> None:
    def narrows(sig_pre: float, relu_pre: float) -> str:
        cells: dict = {}
        for frac in (0.01, 1.0):
            _cell(cells, "sigmoid", 3, frac, 0.50, sig_pre, 0.005)
            _cell(cells, "relu", 3, frac, 0.50, relu_pre, 0.005)
        _, verdicts = pretraining._findings(_rows(cells, 5), ["digits"], [3], FRACTIONS)
        return _verdict(verdicts[3])

    # sigmoid -10 points, ReLU +20 (both far outside noise): reverses, and the gap grows
    v = narrows(0.40, 0.70)
    assert v == "contradicted: it reverses (pre-training helps the ReLU nets) and grows "\
        "(10.0 -> 20.0 points)", v  # fmt: skip
    # sigmoid +20, ReLU -10: reverses, and the gap narrows
    v = narrows(0.70, 0.40)
    assert v == "mixed: the gap narrows (20.0 -> 10.0 points) but reverses "\
        "(pre-training hurts the ReLU nets)", v  # fmt: skip
    assert not re.search(r"-\d", v)
