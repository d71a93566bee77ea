"""Mutation review (mut36b) of diagnostics/stats.py and diagnostics/verdict.py boundaries.

Expected values come from the documented thresholds (README "Diagnostics" table, the verdict
and stats module docstrings) and from numpy computations on the same tensors.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from trainlab.diagnostics import stats
from trainlab.diagnostics.verdict import verdict


def _find(findings, check, model=0):
    return next(f for f in findings if f.check == check and f.model == model)


def _rows(layers, step=1, model=0, **common):
    """Hand-made records: one per (layer dict), in forward order."""
    out = []
    for i, extra in enumerate(layers):
        r = {"model": model, "layer": f"l{i}", "step": step, "order": i, "weight_norm": 1.0}
        r.update(common)
        r.update(extra)
        out.append(r)
    return out


# --- stats: activation std is the population std (correction=0), as stats.py's docstring says.
# Kills stats.py:135 `norm.square() / n` -> `/ (n - 1)` (Bessel) and a dropped shift.
def test_moments_population_std_matches_numpy_ddof0():
    rng = np.random.default_rng(0)
    a = rng.normal(3.0, 2.0, size=(2, 5, 3))
    m, s = stats.moments(torch.tensor(a))
    flat = a.reshape(2, -1)
    np.testing.assert_allclose(m.numpy(), flat.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(s.numpy(), flat.std(axis=1, ddof=0), rtol=1e-10)
    assert not np.allclose(s.numpy(), flat.std(axis=1, ddof=1), rtol=1e-6)


# --- stats: tanh saturation is |y| > 0.99 (strict): exactly 0.99 is not saturated.
# Kills stats.py:317 gt_ -> ge_ and TANH_LIMIT changes.
def test_tanh_saturation_strict_at_limit():
    y = torch.tensor([[[0.99, -0.99, 0.995, -0.9951, 0.0]]], dtype=torch.float64)
    frac = stats.saturated_fraction(y, "tanh")
    assert frac.tolist() == [pytest.approx(2 / 5)]


# --- stats: sigmoid saturated where y < 0.01 or y > 0.99 (strict), float64 so 0.01 is exact-ish
# relative to 0.5 - 0.01. Kills stats.py:319 gt_ -> ge_ / a changed SIGMOID_LOW.
def test_sigmoid_saturation_limits():
    y = torch.tensor([[[0.005, 0.995, 0.02, 0.98, 0.5, 0.011, 0.989, 0.0]]], dtype=torch.float64)
    frac = stats.saturated_fraction(y, "sigmoid")
    # saturated: 0.005, 0.995, 0.0 -> 3 of 8
    assert frac.tolist() == [pytest.approx(3 / 8)]


# --- stats: hardtanh y <= min_val or y >= max_val (inclusive), from the module's own limits;
# hardsigmoid y <= 0 or y >= 1. Kills stats.py:323 <= -> < / >= -> >, :325 ge_ -> gt_.
def test_hardtanh_and_hardsigmoid_inclusive_limits():
    m = nn.Hardtanh(-2.0, 3.0)
    y = torch.tensor([[[-2.0, 3.0, 2.9, -1.9, 0.0]]])
    assert stats.saturated_fraction(y, "hardtanh", m).tolist() == [pytest.approx(2 / 5)]
    y = torch.tensor([[[0.0, 1.0, 0.5, 0.001]]])
    assert stats.saturated_fraction(y, "hardsigmoid").tolist() == [pytest.approx(2 / 4)]


# --- stats: dead unit = peak over the batch <= 0 (a unit at exactly 0 everywhere is dead).
# Kills stats.py:280 `<= 0` -> `< 0`; unit axis "last" vs "channel" (stats.py:299).
def test_dead_fraction_zero_is_dead_and_unit_axes():
    y = torch.tensor([[[0.0, 1.0, -1.0, 0.0], [0.0, -2.0, -1.0, 0.5]]])  # (K=1, B=2, D=4)
    # unit 0: peak 0 (dead), unit 1: 1 (alive), unit 2: -1 (dead), unit 3: 0.5 (alive)
    assert stats.dead_fraction(y, "last").tolist() == [0.5]
    # (K, B, C, L): channel axis 2; "channel" and "last" differ
    z = torch.zeros(1, 2, 3, 4)
    z[0, 1, 0, 3] = 1.0  # channel 0 alive at position 3; feature (last) 3 alive
    z[0, 0, 2, 1] = 2.0  # channel 2 alive; feature 1 alive
    assert stats.dead_fraction(z, "channel").tolist() == [pytest.approx(1 / 3)]
    assert stats.dead_fraction(z, "last").tolist() == [pytest.approx(2 / 4)]
    # ReLU6: at the cap on every sample is dead too
    c = torch.tensor([[[6.0, 3.0], [0.0, 6.0]]])
    assert stats.dead_fraction(c, "last", cap=6.0).tolist() == [pytest.approx(1 / 2)]


# --- stats: histogram bins [e_i, e_{i+1}) : a value equal to an edge goes to the bin above it;
# NaN to the overflow column. Kills stats.py:177 right=True -> False and :198 nan -> 0 / the
# `- 1.0` offset of uniform_bin_positions (stats.py:264).
def test_histograms_edges_are_left_closed_and_nan_overflows():
    y = torch.tensor([[-1.0, 0.0, 0.5, 1.0, 2.0, float("nan")]])
    edges = torch.tensor([0.0, 1.0, 2.0])
    expected = [1, 2, 1, 2]  # <0: -1 | [0,1): 0, .5 | [1,2): 1 | >=2: 2, nan
    assert stats.histogram(y, edges).tolist() == [expected]
    u = stats.uniform_histogram(y, 0.0, 2.0, 2)  # bins [0,1), [1,2)
    assert u.tolist() == [[1.0, 2.0, 1.0, 2.0]]
    np_counts, _ = np.histogram([0.0, 0.5, 1.0], bins=[0.0, 1.0, 2.0])
    assert u[0, 1:3].tolist() == np_counts.tolist()


# --- stats: norms per model index the model axis (population). Kills a swapped reduction.
def test_norms_and_sq_norm_per_model_match_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 4, 5))
    b = rng.normal(size=(3, 7))
    got = stats.norms([torch.tensor(a), torch.tensor(b)], 3)
    np.testing.assert_allclose(got[0].numpy(), np.linalg.norm(a.reshape(3, -1), axis=1))
    np.testing.assert_allclose(got[1].numpy(), np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(
        stats.sq_norm(torch.tensor(a), 3).numpy(), (a.reshape(3, -1) ** 2).sum(axis=1)
    )


# --- verdict: a gradient ratio exactly at 1e-2 / 1e2 does not fire (README: `< 1e-2`,
# `> 1e2`). Kills verdict.py:488 `<` -> `<=` and :500 `>` -> `>=`. 0.5/50 == 1e-2 and 50/0.5
# == 1e2 exactly in float64 (0.01 and 100.0 are the nearest doubles of the quotients).
@pytest.mark.parametrize("g0,g1", [(0.5, 50.0), (50.0, 0.5)])
def test_gradient_ratio_at_threshold_is_ok(g0, g1):
    assert g0 / g1 in (1e-2, 1e2)
    recs = _rows([{"out_grad_norm": g0}, {"out_grad_norm": 1.0}, {"out_grad_norm": g1}])
    f = _find(verdict(recs), "gradients")
    assert f.status == "ok"
    assert f.value == pytest.approx(g0 / g1)


# the ratio is first layer / last layer with parameters (forward order), not the second;
# just past each bound it fires. Kills sel[-1] -> sel[1], swapped g0/g1.
def test_gradient_ratio_is_first_over_last_with_params():
    recs = _rows(
        [{"out_grad_norm": 0.4}, {"out_grad_norm": 0.4}, {"out_grad_norm": 1.0},
         {"out_grad_norm": 100.0, "weight_norm": None}, {"out_grad_norm": 50.0}]
    )  # fmt: skip
    f = _find(verdict(recs), "gradients")
    assert f.status == "warn" and "vanishing" in f.message
    assert f.value == pytest.approx(0.4 / 50.0)
    assert f.layer == "l0"


# --- verdict: activation std ratio exactly 1e-2 / 1e2 is in range (README: `< 1e-2`, `> 1e2`),
# act_std exactly 100 is not "large" (`act_std > 1e2`). Kills verdict.py:553 `<=` -> `<`,
# :581 `>` -> `>=`.
@pytest.mark.parametrize("s1", [0.01, 100.0])
def test_activation_ratio_at_threshold_is_ok(s1):
    recs = _rows([{"act_std": 1.0, "kind": None}, {"act_std": s1, "kind": None}])
    f = _find(verdict(recs), "activations")
    assert f.status == "ok", f.message


def test_act_std_exactly_high_is_not_large():
    recs = _rows([{"act_std": 100.0, "kind": None}, {"act_std": 100.0, "kind": None}])
    assert _find(verdict(recs), "activations").status == "ok"
    recs = _rows([{"act_std": 100.5, "kind": None}, {"act_std": 100.5, "kind": None}])
    assert _find(verdict(recs), "activations").status == "warn"


# --- verdict: saturation `> 0.2` and dead `> 0.25` (strict): exactly at the limit is ok, just
# above warns. Kills verdict.py:677 `>` -> `>=` (0.2 as a double differs from float32(0.2)).
@pytest.mark.parametrize(
    "key,check,kind,limit",
    [
        ("saturated_fraction", "saturation", "tanh", 0.2),
        ("dead_fraction", "dead_relu", "relu", 0.25),
    ],
)
def test_fraction_checks_strict_at_limit(key, check, kind, limit):
    at = _rows([{key: limit, "kind": kind}], weight_norm=None)
    assert _find(verdict(at), check).status == "ok"
    above = _rows([{key: limit + 1e-3, "kind": kind}], weight_norm=None)
    assert _find(verdict(above), check).status == "warn"


# --- verdict: the least fraction over the latest PERSIST_STEPS=3 sampled steps (step 0 left
# out when later steps exist). Kills PERSIST_STEPS 3 -> 2/4, least -> most, step-0 filter.
def test_dead_least_over_latest_three_steps():
    def recs(vals):
        return [r for s, v in vals for r in _rows([{"dead_fraction": v, "kind": "relu"}],
                                                  step=s, weight_norm=None)]  # fmt: skip

    # latest three: 0.5, 0.5, 0.5 -> warn even though step 1 was 0.0
    assert (
        _find(verdict(recs([(1, 0.0), (2, 0.5), (3, 0.5), (4, 0.5)])), "dead_relu").status == "warn"
    )
    # one of the latest three healthy -> ok (least)
    assert _find(verdict(recs([(2, 0.1), (3, 0.5), (4, 0.5)])), "dead_relu").status == "ok"
    # step 0 (before any update) healthy is left out when later steps were sampled
    assert _find(verdict(recs([(0, 0.0), (5, 0.6), (10, 0.6)])), "dead_relu").status == "warn"


# --- verdict: update ratio `< 1e-5` / `> 1e-1` (strict) at the latest sampled step.
# Kills verdict.py:741/821 `<` -> `<=`, :822 `>` -> `>=`.
@pytest.mark.parametrize(
    "u,status", [(1e-5, "ok"), (1e-1, "ok"), (9.9e-6, "warn"), (0.101, "warn")]
)
def test_update_ratio_bounds(u, status):
    recs = _rows([{"update_ratio": 1e-3, "grad_norm": 1.0}, {"update_ratio": u, "grad_norm": 1.0}])
    assert _find(verdict(recs), "update_ratio").status == status


# --- verdict: per-model findings in a population (records indexed by "model").
def test_population_findings_are_per_model():
    recs = _rows([{"update_ratio": 1e-3, "grad_norm": 1.0}], model=0) + _rows(
        [{"update_ratio": 0.5, "grad_norm": 1.0}], model=1
    )
    fs = verdict(recs)
    assert _find(fs, "update_ratio", 0).status == "ok"
    assert _find(fs, "update_ratio", 1).status == "warn"
    assert _find(fs, "update_ratio", 1).value == pytest.approx(0.5)


# Kills stats.py:319 gt_ -> ge_: exactly 0.01 and 0.99 are not saturated (docs: y < 0.01 or
# y > 0.99, strict); numpy on the same float64 values gives the same mask.
def test_sigmoid_exact_limits_not_saturated():
    vals = np.array([0.01, 0.99, 0.0099, 0.9901])
    expected = ((vals < 0.01) | (vals > 0.99)).mean()
    y = torch.tensor(vals).reshape(1, 1, -1)
    assert stats.saturated_fraction(y, "sigmoid").tolist() == [pytest.approx(expected)]
    assert expected == 0.5


# Kills stats.py:162 shift -> 0 (the shifted-data algorithm): float32 values with |mean| >> std,
# std from numpy in float64 on the same float32 values.
def test_moments_float32_large_mean_keeps_std():
    rng = np.random.default_rng(2)
    a = (1e4 + rng.normal(size=(1, 4096))).astype(np.float32)
    _, s = stats.moments(torch.tensor(a))
    assert s.item() == pytest.approx(a.astype(np.float64).std(), rel=1e-3)


# Kills verdict.py:187 max(steps) -> min(steps): the verdict judges the latest sampled step
# (README: "at the latest sampled step"); an early too-large update the layer recovered from
# (within bounds since) gives "ok".
def test_update_ratio_judged_at_latest_step():
    recs = _rows([{"update_ratio": 0.5, "grad_norm": 1.0}], step=1) + _rows(
        [{"update_ratio": 1e-3, "grad_norm": 1.0}], step=2
    )
    f = _find(verdict(recs), "update_ratio")
    assert f.status == "ok" and f.step == 2
