"""mut36t: mutation review of trainlab.studies.activations' verdict rules.

The rules (activations.py module docstring, fixed before measuring): "collapses" = layer-7 std
below 0.1 x layer-1 std; "saturates" = more than half of layer 7 with |a| > 0.9; "spread" =
layer-7 std above 0.1 and under 10% of layer 7 with |a| > 0.9; ReLU: the per-layer variance
ratio (geometric mean over layers 1->7) within 15% of n*sigma^2/2. All inputs are hand-made.
"""

from __future__ import annotations

import torch

from trainlab.studies.activations import _ratio, _verdict, measure

ONES = [1.0] * 7


def _stds(last: float, first: float = 1.0) -> list[float]:
    return [first] + [first] * 5 + [last]


# kills activations.py:154 `stds[0] <= 0` -> `stds[0] < 0` (a zero first-layer std would
# divide by zero instead of giving the documented 0.0 "no ratio").
def test_ratio_zero_first_std_is_zero() -> None:
    assert _ratio([0.0, 1.0, 1.0]) == 0.0
    # hand: 3 layers, std 1 -> 0.25: ((0.25/1)^2)^(1/2) = 0.25 variance ratio per layer
    assert abs(_ratio([1.0, 0.5, 0.25]) - 0.25) < 1e-12  # std halves per layer -> var x 1/4


# kills activations.py:177 `0.1 * std[0]` -> `0.2 * std[0]`: layer 7 at 0.15 x layer 1 is not
# "below 0.1 x layer-1 std", so tanh N(0, 0.01^2) must NOT count as collapsed.
def test_collapse_threshold_is_one_tenth() -> None:
    assert not _verdict("tanh", "N(0, 0.01²)", _stds(0.15), [0.0] * 7, None)[2]
    assert _verdict("tanh", "N(0, 0.01²)", _stds(0.05), [0.0] * 7, None)[2]


# kills activations.py:179 `sat[-1] > 0.5` -> `> 0.3`: "more than half" saturated.
def test_saturation_needs_more_than_half() -> None:
    assert not _verdict("tanh", "N(0, 0.05²)", ONES, [0.4] * 7, None)[2]
    assert _verdict("tanh", "N(0, 0.05²)", ONES, [0.6] * 7, None)[2]


# kills activations.py:181 `std[-1] > 0.1` -> `> 0.0` and `sat[-1] < 0.1` -> `< 0.5`:
# spread = layer-7 std above 0.1 AND under 10% saturated.
def test_spread_needs_std_above_tenth_and_under_ten_percent_saturated() -> None:
    assert _verdict("tanh", "Xavier", _stds(0.3), [0.05] * 7, None)[2]
    assert not _verdict("tanh", "Xavier", _stds(0.05), [0.0] * 7, None)[2]
    assert not _verdict("tanh", "Xavier", _stds(0.3), [0.3] * 7, None)[2]


# kills activations.py:187 `sat[-1] < 0.1` -> `< 0.5` in the tanh-He "spread, larger than
# Xavier" rule: more std than Xavier but 30% saturated is not "spread".
def test_spread_above_also_needs_little_saturation() -> None:
    above = _stds(0.27, 0.63)
    assert _verdict("tanh", "He", _stds(0.4, 0.7), [0.05] * 7, None, above=above)[2]
    assert not _verdict("tanh", "He", _stds(0.4, 0.7), [0.3] * 7, None, above=above)[2]


# kills activations.py:194 `0.15 * expect` -> `0.3 * expect`: Xavier ReLU (n*sigma^2 = 1)
# expects a variance ratio 0.5; a measured ratio of 0.62 (24% off) is outside 15%, 0.55 (10%)
# inside. Stds built so that (std7/std1)^(2/6) equals the ratio exactly.
def test_relu_ratio_tolerance_is_fifteen_percent() -> None:
    def stds(q: float) -> list[float]:
        return [q ** (layer / 2) for layer in range(7)]

    assert _verdict("relu", "Xavier", stds(0.55), [], 1.0)[2]
    assert not _verdict("relu", "Xavier", stds(0.62), [], 1.0)[2]
    assert not _verdict("relu", "Xavier", stds(0.40), [], 1.0)[2]
    assert _verdict("relu", "He", stds(1.0), [], 2.0)[2]


# kills activations.py:51 SATURATION 0.9 -> 0.95: the recorded "saturated" fraction is the
# fraction with |a| > 0.9. Recomputed independently with torch for a 1-layer tanh net whose
# weights are a fixed-seed normal draw (the generator order is the documented one: input
# first, then the weights), compared against measure's output.
def test_measure_saturated_fraction_uses_point_nine() -> None:
    width, batch, std = 16, 32, 1.0
    m = measure("tanh", "normal", {"std": std}, width=width, seeds=[3], depth=1, batch=batch)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(batch, width, generator=g)
    from trainlab import init as init_mod

    w = init_mod.init_tensor(torch.empty(width, width), "normal", generator=g, std=std)
    a = torch.tanh(x @ w.T)
    frac9 = float((a.abs() > 0.9).float().mean())
    frac95 = float((a.abs() > 0.95).float().mean())
    assert frac9 != frac95  # the input tells the two thresholds apart
    assert abs(m["saturated"][0][0] - frac9) < 1e-6
    assert abs(m["std"][0][0] - float(a.flatten().std())) < 1e-5
    assert abs(m["mean"][0][0] - float(a.mean())) < 1e-5


# ---- optimizers._compare / _all_of, pretraining._gain / _given_it_helps (hand-made numbers)
from trainlab.studies import evidence  # noqa: E402
from trainlab.studies import optimizers as opt  # noqa: E402
from trainlab.studies import pretraining as pt  # noqa: E402


# kills optimizers.py:602 `if verdicts and all(...)` -> `if all(...)`: no comparison at all is
# no evidence (all([]) is True), and optimizers.py:605 default INCONCLUSIVE -> CONFIRMED:
# "confirmed if all are" (docstring), one inconclusive comparison leaves it inconclusive.
def test_all_of_needs_every_comparison_confirmed() -> None:
    assert opt._all_of([]) == evidence.INCONCLUSIVE
    assert opt._all_of([evidence.CONFIRMED, evidence.INCONCLUSIVE]) == evidence.INCONCLUSIVE
    assert opt._all_of([evidence.CONFIRMED, evidence.CONFIRMED]) == evidence.CONFIRMED


# kills optimizers.py:580 `if bad_a:` -> `if False:` (docstring: "in a alone the claim is not
# judged") and optimizers.py:585 dropping `scale *` from the difference: with scale 2,
# 2*mean(a) = 2.0 clearly exceeds mean(b) = 1.5 (seed spread 0.1), without it 1.0 < 1.5.
def test_compare_scale_and_diverged_a() -> None:
    a, b = [1.0, 1.1, 0.9], [1.5, 1.6, 1.4]
    assert opt._compare(a, b, 2.0)[0] == evidence.CONFIRMED
    assert opt._compare(a, b, 1.0)[0] == evidence.CONTRADICTED
    assert opt._compare([1.0, float("nan"), 0.9], b, 2.0)[0] == evidence.NOT_FINITE


# kills pretraining.py:418 weight of random's std 1.0 -> 0.5: gain = (DBN+SDAE)/2 - random,
# so Var(gain) = (sd_dbn/2)^2/n + (sd_sdae/2)^2/n + sd_random^2/n -> weights 0.5, 0.5, 1.
def test_gain_and_its_noise_weights() -> None:
    def row(method: str, acc: float, sd: float) -> dict:
        return {"method": method, "data": "d", "activation": "sigmoid", "depth": 3,
                "labels": 0.1, "test_acc_mean": acc, "test_acc_std": sd, "n": 4}  # fmt: skip

    rows = [row("dbn", 0.9, 0.02), row("sdae", 0.8, 0.04), row("random", 0.7, 0.06)]
    gain, cells = pt._gain(rows, "d", "sigmoid", 3, 0.1)
    assert abs(gain - 0.15) < 1e-12
    assert sorted(cells) == sorted([(0.01, 4), (0.02, 4), (0.06, 4)])


# kills pretraining.py:426 `or helps == CONFIRMED` -> `and ...`: a confirmed "benefit grows"
# claim is not confirmed when pre-training hurts (docstring of _given_it_helps); a verdict
# that is not "confirmed" passes through unchanged (only a confirmation needs the benefit).
def test_size_claim_needs_a_benefit() -> None:
    out = pt._given_it_helps(evidence.CONFIRMED, evidence.CONTRADICTED)
    assert out.startswith(evidence.CONTRADICTED)
    assert pt._given_it_helps(evidence.CONFIRMED, evidence.INCONCLUSIVE).startswith("inconclusive")
    assert pt._given_it_helps(evidence.CONFIRMED, evidence.CONFIRMED) == evidence.CONFIRMED
    assert pt._given_it_helps(evidence.INCONCLUSIVE, evidence.CONTRADICTED) == evidence.INCONCLUSIVE
