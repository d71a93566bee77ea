"""thresholds31: review of the diagnostics verdict thresholds (trainlab.diagnostics.Thresholds)."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.diagnostics import Thresholds, verdict
from trainlab.errors import UserError


def _updates(*ratios: float) -> list[dict]:
    return [
        {
            "model": 0,
            "layer": name,
            "step": 0,
            "order": i,
            "kind": "linear",
            "update_ratio": r,
            "grad_norm": 1.0,
            "weight_norm": 1.0,
        }  # fmt: skip
        for i, (name, r) in enumerate(zip("ab", ratios, strict=True))
    ]


# update_ratio picks the layer it reports by its distance from 1e-3 (`dist` in _check_updates),
# not by how far it lies beyond the thresholds the caller gave. With asymmetric custom bounds
# [1e-6, 1e-2], layer 'a' at 2e-2 is 2x over the high bound (0.30 decades) and 'b' at 9e-7 is
# 1.11x under the low bound (0.05 decades); the finding names 'b' ("too small: 9.0e-07") and
# hides the too-large update. The activations check already measures "furthest beyond its
# threshold" for exactly this reason (test_activations_verdict_flags_a_layer_below_an_
# asymmetric_low_threshold); update_ratio should do the same: name 'a', too large.
def test_update_ratio_reports_the_layer_furthest_beyond_custom_asymmetric_bounds():
    (f,) = verdict(_updates(2e-2, 9e-7), Thresholds(update_low=1e-6, update_high=1e-2))
    assert f.status == "warn"
    assert sorted(f.layers) == ["a", "b"]
    assert (f.layer, f.value) == ("a", 2e-2)
    assert "too large" in f.message and "'a'" in f.message


# Thresholds accepts a low bound above its high bound: with update_low=0.5, update_high=0.1
# every ratio is out of range, and a healthy 1e-3 update is reported "too small (bound 0.5)";
# grad_ratio_low=200 (above the default high 100) makes every gradient ratio "vanishing". Such
# a pair is a mistake (swapped values); like a negative or NaN threshold it should be refused
# with a UserError when the Thresholds is made.
@pytest.mark.parametrize(
    "kw",
    [
        {"update_low": 0.5, "update_high": 0.1},
        {"grad_ratio_low": 200.0},
        {"act_ratio_low": 10.0, "act_ratio_high": 5.0},
    ],
)
def test_thresholds_with_a_low_bound_above_the_high_bound_are_refused(kw):
    with pytest.raises(UserError):
        Thresholds(**kw)


# `saturated` and `dead` are fractions of units (README: "more than 25% of its units"), but
# Thresholds(dead=25) -- the percentage the README prints -- is accepted and the check can then
# never fire (a fraction is at most 1): a layer with 100% dead units is reported "ok". A value
# above 1 should be refused with a UserError saying the threshold is a fraction in [0, 1].
@pytest.mark.parametrize("name", ["dead", "saturated"])
def test_fraction_thresholds_above_one_are_refused(name):
    with pytest.raises(UserError, match=name):
        Thresholds(**{name: 25})


# Thresholds(dead=np.float32(0.5)) is refused with "Thresholds.dead must be a finite number >= 0,
# got np.float32(0.5)": the message contradicts itself (0.5 is a finite number >= 0). A numpy
# scalar (e.g. from np.percentile of float32 statistics) is a real number and should be taken
# (as float), and then honoured: 60% dead warns, 40% does not.
def test_a_numpy_float32_threshold_is_accepted_and_honoured():
    t = Thresholds(dead=np.float32(0.5))

    def dead(v: float) -> str:
        rec = {"model": 0, "layer": "r", "step": 0, "order": 0, "kind": "relu", "dead_fraction": v}
        return verdict([rec], t)[0].status

    assert (dead(0.6), dead(0.4)) == ("warn", "ok")
