"""Adversarial review of commit 110b064 (early stopping's shared rule and its replay in the
report, ``aggregate``'s scaling, the optimizers' all-groups check, the watch's list of
GradScaler ``found_inf`` values, the verdict's ``overflow_only`` rule): holes left in those
changes, each checked against a closed form, torch, or the same situation with a NaN.

Every test here fails on the code it was written against, for the reason its docstring gives.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from backward_injection import nonfinite_finding
from trainlab.diagnostics import watch
from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer
from trainlab.report import aggregate

# -- aggregate: the new scaling ------------------------------------------------------------------


def test_aggregate_of_subnormal_values_does_not_raise():
    """110b064 made ``aggregate`` scale every sample by ``2.0 ** -frexp(max|x|)[1]`` "so that
    tiny ones (1e-170) [do not] square to 0". For a largest magnitude below 2**-1024 -- any
    float64 subnormal, e.g. a float64 cross-entropy of a separable problem after
    ``exp(-710)`` -- the exponent is <= -1024 and ``2.0 ** 1024`` raises ``OverflowError``
    (Python's float power raises rather than returning inf). So ``aggregate([1e-310, 3e-310])``
    and even one seed's ``aggregate([5e-324])`` crash, and with them every caller: the
    trainer's ``summary()`` at the very end of a run (no summary.json is written), the report
    tables, the studies. The docstring promises that every finite value is summarized
    (``None``/NaN/Inf left out); the closed forms are mean = Σx/n, std = √(Σ(x−mean)²/(n−1))."""
    one = aggregate([5e-324])
    assert one == {"mean": 5e-324, "std": 0.0, "ci95": None, "n": 1}
    two = aggregate([1e-310, 3e-310])
    assert two["n"] == 2
    assert two["mean"] == pytest.approx(2e-310, rel=1e-9, abs=0)
    assert two["std"] == pytest.approx(math.sqrt(2) * 1e-310, rel=1e-9, abs=0)


def test_aggregate_ci95_of_huge_values_is_finite_when_the_interval_is_representable():
    """``aggregate`` scales huge values (a diverged float64 loss) "so that sums and squares do
    not overflow", then computes ``ci95 = t·std/√n`` in that order: ``t·std`` overflows to inf
    before the division brings it back into range. For three seeds at −5e307, 0 and 5e307 the
    sample std is 5e307 and the 95% half-width is t₀.₉₇₅,₂ · 5e307 / √3 ≈ 1.24e308, a finite
    float64 (< 1.797e308), yet ``aggregate`` returns ``ci95 = inf``: the report and
    summary.json then claim an infinite uncertainty for numbers that have a finite one, and
    the result is no longer scale-equivariant (the same data divided by 1e307 gives a finite
    ci95, which times 1e307 is the right answer)."""
    from scipy.stats import t

    xs = [-5e307, 0.0, 5e307]
    got = aggregate(xs)
    assert got["std"] == pytest.approx(5e307, rel=1e-12)
    expected = float(t.ppf(0.975, 2)) * (5e307 / math.sqrt(3))  # ~1.24e308: representable
    assert math.isfinite(expected)
    small = aggregate([x / 1e307 for x in xs])
    assert small["ci95"] * 1e307 == pytest.approx(expected, rel=1e-12)
    assert got["ci95"] == pytest.approx(expected, rel=1e-12), got


# -- optimizers: a step refused by a later group ---------------------------------------------------


def test_a_fused_16bit_group_refused_at_step_leaves_the_earlier_group_untouched():
    """110b064: "every group's optimizer values checked before any group steps", so that a
    refused ``step()`` leaves the optimizer as it was (tests/test_session_diff8_contracts.py:
    "Nothing may change when a step is refused"). But the check covers only the values'
    shapes: SGD with ``fused=True`` still refuses a group of float16/bfloat16 parameters *inside
    the loop over groups* (torch 2.12-2.13's fused CPU SGD kernel mishandles 16-bit weights),
    after the earlier groups have already been updated. With a float32 group and a bfloat16
    group (mixed precision: norms or a head kept in float32), the ConfigError says "leave fused
    unset (auto)"; a user who does that for the 16-bit group and steps again gives the float32
    group two updates for one gradient."""
    from trainlab.optim.sgd import fused_sgd_handles_16bit

    if fused_sgd_handles_16bit():
        pytest.skip("this torch's fused CPU SGD kernel handles 16-bit weights: nothing refused")
    k = 3
    g = torch.Generator().manual_seed(0)
    a0 = torch.randn(k, 4, generator=g)
    b0 = torch.randn(k, 5, generator=g).to(torch.bfloat16)
    a, b = a0.clone(), b0.clone()
    opt = create_optimizer("sgd", [{"params": [a]}, {"params": [b]}], lr=0.1, fused=True)
    a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
    with pytest.raises(ConfigError):
        opt.step()
    assert torch.equal(b, b0)
    assert torch.equal(a, a0), "the float32 group was updated by a step that was refused"


# -- watch: the found_inf list ---------------------------------------------------------------------


def test_the_watch_keeps_no_found_inf_per_step_without_update_ratios():
    """110b064 turned the watch's one ``_found_inf`` into a list, ``_found_infs``, appended to
    at every step of a fused optimizer a GradScaler feeds (a cloned 0-d tensor each time). The
    list is emptied only where a sampled step starts measuring an update, i.e. only with
    ``update_ratio=True``. With ``watch(..., update_ratio=False, scaler=scaler)`` (a documented
    option, the cheap watch for a long mixed-precision run) nothing ever empties it: it holds
    one tensor per training step for the whole run, a leak that grows without bound
    (1e6 steps: a million tensors, on the GPU a million allocations) although the values are
    never read. With every=50 it must hold at most the steps since the last sample."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.Adam(net.parameters(), lr=0.01, fused=True)
    scaler = torch.amp.GradScaler("cpu")
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with watch(net, every=50, scaler=scaler, update_ratio=False) as w:
        for _ in range(300):
            opt.zero_grad()
            scaler.scale(nn.functional.cross_entropy(net(x), y)).backward()
            scaler.step(opt)
            scaler.update()
        kept = len(w._found_infs)
    assert kept <= 50, f"the watch holds {kept} found_inf tensors after 300 steps (every=50)"


# -- verdict: the overflow_only rule ---------------------------------------------------------------


def _relu_nonfinite_finding(value):
    return nonfinite_finding(value, activation=nn.ReLU, dead_unit=True)


def test_an_inf_gradient_that_a_relu_zeroes_is_still_reported_like_the_same_nan():
    """110b064's rule reads an inf output-gradient norm as a float32 overflow of finite values
    when the parameter gradients at and below the layer are finite, because "a real Inf there
    makes those parameter gradients non-finite". A ReLU's backward *selects* (torch's
    ``threshold_backward``: 0 where the unit is inactive), it does not multiply: a real +Inf
    arriving at an inactive unit is replaced by 0 and never reaches a parameter gradient. So a
    real Inf born in the backward above a ReLU layer (all layers watched, the default) is
    reported as ``ok`` with the message "all outputs and gradients finite", which is false, while
    the very same injection of a NaN (also zeroed by the ReLU) is a ``fail`` at step 3. The
    check's documented rule is "(fail) an output or a gradient held NaN/Inf"; an Inf must be
    found where the NaN is. (The records hold norms only, so an Inf there cannot be told from a
    float32 overflow of finite values, which the trainer never stops a model for: a ``warn``
    naming the step and the layer is the honest verdict; ``ok`` is not.)"""
    nan = _relu_nonfinite_finding(float("nan"))
    inf = _relu_nonfinite_finding(float("inf"))
    assert (nan.status, nan.step) == ("fail", 3)  # (the NaN is found where it was born)
    assert inf.status in ("warn", "fail") and inf.step == nan.step, inf.message
    assert inf.layer == nan.layer, inf.message
