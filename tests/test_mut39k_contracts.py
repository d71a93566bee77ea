"""Mutation review (mut39k) of diagnostics/verdict.py beyond its thresholds: NaN/Inf origin,
gradient ratio, activation/update ranking, the latest step judged, verdict_rows.

Hand-made records (the fields of ``watch(...).records()``); every expected value is the rule of
the verdict module docstring / README "Diagnostics" applied by hand, not trainlab's output.
"""

from __future__ import annotations

import math

from trainlab.diagnostics.verdict import Finding, verdict, verdict_rows

INF = math.inf


def _find(findings, check, model=0):
    return next(f for f in findings if f.check == check and f.model == model)


def _r(layer, step, order, model=0, **kw):
    r = {"model": model, "layer": layer, "step": step, "order": order, "nonfinite": False}
    r.update(kw)
    return r


# --- _ran: a layer not called at the latest step (no ``order``) has no ratio to judge there
# ("an auxiliary head not called at that step was not trained by it, and its ratio 0 is not
# 'too slow'"). Kills verdict.py:196 all(...) -> any(...).
def test_update_ratio_leaves_out_a_layer_not_called_at_the_latest_step():
    recs = [
        _r("body", 0, 0, update_ratio=1e-3, grad_norm=1.0, weight_norm=1.0),
        _r("aux", 0, 1, update_ratio=1e-3, grad_norm=1.0, weight_norm=1.0),
        _r("body", 1, 0, update_ratio=1e-3, grad_norm=1.0, weight_norm=1.0),
        _r("aux", 1, None, update_ratio=0.0, grad_norm=None, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "update_ratio")
    assert f.status == "ok", f.message
    assert f.step == 1 and f.layer is None


# --- overflow_only: an infinite ‖∂L/∂y‖ at the first layer whose own parameter gradient is
# finite (no layer before it) is the docstring's ``warn`` case ("an output gradient's norm is
# inf while every output and parameter gradient is finite"), not a ``fail``.
# Kills verdict.py:272 `_order(q) <= _order(r)` -> `<` (the layer's own gradient left out).
def test_inf_output_gradient_at_the_first_layer_with_finite_gradients_warns():
    recs = [
        _r("l0", 3, 0, out_grad_norm=INF, grad_norm=1.0, weight_norm=1.0),
        _r("l1", 3, 1, out_grad_norm=1.0, grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "nonfinite")
    assert f.status == "warn", f.message
    assert f.step == 3 and f.layer == "l0"
    assert "step 3" in f.message and "'l0'" in f.message


# ... but only where those parameter gradients are recorded ("unless the parameter gradients
# of the layer and of the layers before it ... are recorded and all finite"): with no gradient
# norm recorded the inf is not known to be an overflow, and the check fails.
# Kills verdict.py:274 `bool(below) and all(...)` -> `all(...)`.
def test_inf_output_gradient_without_recorded_parameter_gradients_fails():
    recs = [
        _r("l0", 3, 0, out_grad_norm=INF),
        _r("l1", 3, 1, out_grad_norm=1.0),
    ]
    f = _find(verdict(recs), "nonfinite")
    assert f.status == "fail", f.message
    assert f.step == 3 and f.layer == "l0"


# --- the overflow warning names the earliest step with it. Kills verdict.py:294 min -> max.
def test_overflow_warning_names_the_earliest_step():
    recs = [
        _r(n, s, i, out_grad_norm=(INF if n == "l0" else 1.0), grad_norm=1.0, weight_norm=1.0)
        for s in (2, 5)
        for i, n in enumerate(("l0", "l1"))
    ]
    f = _find(verdict(recs), "nonfinite")
    assert f.status == "warn" and f.step == 2, f.message
    assert "at step 2" in f.message


# --- _consumer: the layer that took a row's output is the next row in forward order or the
# outermost enclosing module recorded after it, "never an enclosing module of row i itself".
# 'b.x' feeds its sibling 'b.y' inside block 'b' (recorded after its children): the NaN at
# b.x's output came out of b.y's backward; b.y shows only finite gradients, so the finding
# names where it was measured, 'b.x', and 'b.y' as the next layer -- not the enclosing 'b'.
# Kills verdict.py:389 dropping `and not own.startswith(name + ".")`.
def test_backward_nan_inside_a_block_is_not_blamed_on_the_enclosing_block():
    nan = float("nan")
    recs = [
        _r("b.x", 4, 0, out_grad_norm=nan, grad_norm=1.0, weight_norm=1.0),
        _r("b.y", 4, 1, out_grad_norm=1.0, grad_norm=1.0, weight_norm=1.0),
        _r("b", 4, 2, out_grad_norm=1.0),
        _r("out", 4, 3, out_grad_norm=1.0, grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "nonfinite")
    assert f.status == "fail" and f.step == 4
    assert f.layer == "b.x", f.message
    assert "'b.y'" in f.message


# The docstring's own example: in ``0, 1, 2.lin, 2`` layer 1's output went into block 2 (the
# last row), whose input gradient is then the non-finite one: block '2' is named (the latest
# layer in forward order whose input gradient was non-finite).
# Kills verdict.py:387 range(i + 2, len(rows)) -> range(i + 2, len(rows) - 1).
def test_backward_nan_into_the_last_enclosing_block_names_that_block():
    nan = float("nan")
    recs = [
        _r("0", 4, 0, out_grad_norm=1.0, grad_norm=1.0, weight_norm=1.0),
        _r("1", 4, 1, out_grad_norm=nan, grad_norm=1.0, weight_norm=1.0),
        _r("2.lin", 4, 2, out_grad_norm=1.0, grad_norm=1.0, weight_norm=1.0),
        _r("2", 4, 3, out_grad_norm=1.0),
    ]
    f = _find(verdict(recs), "nonfinite")
    assert f.status == "fail" and f.step == 4
    assert f.layer == "2", f.message
    assert "backward pass of layer '2'" in f.message


# --- _backward_origin: "Layers not called at the step are left out (an auxiliary head is no
# 'last layer'), unless only they show it". Kills verdict.py:405 always using every row.
def test_backward_origin_leaves_out_a_head_not_called_at_the_step():
    nan = float("nan")
    recs = [
        _r("l0", 2, 0, out_grad_norm=1.0, grad_norm=nan, weight_norm=1.0),
        _r("l1", 2, 1, out_grad_norm=1.0, grad_norm=1.0, weight_norm=1.0),
        _r("aux", 2, None, grad_norm=nan, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "nonfinite")
    assert f.status == "fail" and f.step == 2
    assert f.layer == "l0", f.message
    assert "backward pass of layer 'l0'" in f.message


# --- gradients: first and last layer *with parameters* (forward order); a parameter-free
# layer after the last Linear (an activation) is not "the last layer". l0/l2 = 1/2 (ok); with
# the activation's 1e3 as the last it would read vanishing. Kills verdict.py:461 sel = latest.
def test_gradient_ratio_ends_at_the_last_layer_with_parameters():
    recs = [
        _r("l0", 1, 0, out_grad_norm=1.0, grad_norm=1.0, weight_norm=1.0),
        _r("act", 1, 1, kind="tanh", out_grad_norm=1.0, weight_norm=None),
        _r("l2", 1, 2, out_grad_norm=2.0, grad_norm=1.0, weight_norm=1.0),
        _r("act2", 1, 3, kind="tanh", out_grad_norm=1e3, weight_norm=None),
    ]
    f = _find(verdict(recs), "gradients")
    assert f.status == "ok", f.message
    assert f.value == 0.5
    assert "'l0' / 'l2'" in f.message


# the vanishing finding names the first layer (where the gradient arrives shrunk) and only it.
# Kills verdict.py:501 layers [first] -> [last].
def test_vanishing_gradient_finding_names_the_first_layer():
    recs = [
        _r("l0", 1, 0, out_grad_norm=1e-4, weight_norm=1.0),
        _r("l1", 1, 1, out_grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "gradients")
    assert f.status == "warn" and "vanishing" in f.message
    assert f.layer == "l0" and f.layers == ["l0"]
    assert f.value == 1e-4 and f.step == 1


# ‖∂L/∂y‖ 0 at both ends: 0/0 is no ratio below 1e-2 (nothing to compare, not "vanishing").
# Kills verdict.py:488 `else 1.0` -> `else 0.0`.
def test_zero_gradients_at_both_ends_are_not_vanishing():
    recs = [
        _r("l0", 1, 0, out_grad_norm=0.0, weight_norm=1.0),
        _r("l1", 1, 1, out_grad_norm=0.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "gradients")
    assert f.status == "ok", f.message


# --- activations: several layers beyond a bound -> the one furthest beyond *its* bound (in
# decades), not the largest change overall. Default bounds [1e-2, 1e2]: 'l1' at 1e-3 is 1
# decade below, 'l2' at 5e2 is log10(5) = 0.7 decade above. Kills verdict.py:553 excess above
# the high bound measured from act_ratio_low.
def test_activations_report_the_layer_furthest_beyond_its_bound():
    recs = [
        _r("l0", 1, 0, act_std=1.0, weight_norm=1.0),
        _r("l1", 1, 1, act_std=1e-3, weight_norm=1.0),
        _r("l2", 1, 2, act_std=5e2, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "activations")
    assert f.status == "warn" and f.layer == "l1", f.message
    assert f.message.startswith("collapsing activations") and "'l1'" in f.message
    assert f.value == 1e-3 and sorted(f.layers) == ["l1", "l2"]


# asymmetric bounds [1e-1, 1e3]: 'l1' at 1e-2 is 1 decade beyond, 'l2' at 2e3 only 0.3
# decade beyond though 3.3 decades from 1. Kills verdict.py:565 excess -> decades.
def test_activations_rank_by_excess_with_asymmetric_bounds():
    recs = [
        _r("l0", 1, 0, act_std=1.0, weight_norm=1.0),
        _r("l1", 1, 1, act_std=1e-2, weight_norm=1.0),
        _r("l2", 1, 2, act_std=2e3, weight_norm=1.0),
    ]
    th = {"act_ratio_low": 1e-1, "act_ratio_high": 1e3, "act_std_high": 1e4}
    f = _find(verdict(recs, th), "activations")
    assert f.status == "warn" and f.layer == "l1", f.message
    assert f.message.startswith("collapsing activations")


# in range: the ok finding gives the largest change from 1 in decades (0.05 is 1.3 decades,
# 2.0 only 0.3). Kills verdict.py:560 decades -> raw ratio.
def test_activations_ok_reports_the_largest_change_in_decades():
    recs = [
        _r("l0", 1, 0, act_std=1.0, weight_norm=1.0),
        _r("l1", 1, 1, act_std=0.05, weight_norm=1.0),
        _r("l2", 1, 2, act_std=2.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "activations")
    assert f.status == "ok" and f.value == 0.05, f.message
    assert "'l1'" in f.message


# --- update_ratio: several layers out of bounds -> the one furthest beyond its bound
# (bounds [1e-4, 1e-1]: 1e-5 is 1 decade below, 0.2 only 0.3 decade above, though 0.2 is
# further from 1e-3). Kills verdict.py:822 key (excess, dist) -> dist.
def test_update_ratio_reports_the_layer_furthest_beyond_its_bound():
    recs = [
        _r("l0", 1, 0, update_ratio=1e-5, grad_norm=1.0, weight_norm=1.0),
        _r("l1", 1, 1, update_ratio=0.2, grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs, {"update_low": 1e-4}), "update_ratio")
    assert f.status == "warn" and f.layer == "l0", f.message
    assert "too small" in f.message and f.value == 1e-5
    assert sorted(f.layers) == ["l0", "l1"]


# within bounds: the ok finding's value is the ratio furthest from 1e-3 in decades (5e-2 is
# 1.7 decades away, 1e-3 is 0). Kills verdict.py:812 `+ 3.0` -> `+ 2.0`.
def test_update_ratio_ok_value_is_the_furthest_from_1e_3():
    recs = [
        _r("l0", 1, 0, update_ratio=5e-2, grad_norm=1.0, weight_norm=1.0),
        _r("l1", 1, 1, update_ratio=1e-3, grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "update_ratio")
    assert f.status == "ok" and f.value == 5e-2, f.message


# _moved_by counts an update "at or before" the too-large step: a layer whose too-large step
# was its first move, and that then crawls, is told of that step ("a model that ... moves too
# slowly, after too large a step is told so, with that step"). Kills verdict.py:695 <= -> <.
def test_too_slow_after_its_own_too_large_step_names_that_step():
    recs = [
        _r("l0", 1, 0, update_ratio=0.5, grad_norm=1.0, weight_norm=1.0),
        _r("l0", 2, 0, update_ratio=1e-7, grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "update_ratio")
    assert f.status == "warn" and f.step == 2 and f.layer == "l0", f.message
    assert "too small" in f.message
    assert "at step 1 it was too large" in f.message


# _beyond: a ratio just above the bound reads above it (0.1004 is not "1.0e-01").
# Kills verdict.py:616 dropping `float(shown) != limit`.
def test_update_ratio_just_above_the_bound_reads_above_it():
    recs = [_r("l0", 1, 0, update_ratio=0.1004, grad_norm=1.0, weight_norm=1.0)]
    f = _find(verdict(recs), "update_ratio")
    assert f.status == "warn"
    assert "1.004e-01" in f.message and "(bound 0.1)" in f.message, f.message


# _percents: "never round a fraction to ... 0% it is not". Kills verdict.py:627 dropping the
# 0% case.
def test_percents_never_shows_a_nonzero_fraction_as_0_percent():
    from trainlab.diagnostics.verdict import _percents

    assert _percents(0.004, 0.5) == ("0.4%", "50.0%")
    assert _percents(0.996, 0.25) == ("99.6%", "25.0%")


# --- verdict_rows: status is the worst over models (fail > warn > ok); the layer and detail
# are of that status; the layer is the most common among them; the detail is of a model that
# flagged that layer; "model N: " only with more than one model.
def _f(check, status, model, layer=None, msg="m"):
    return Finding(check, status, model, msg, 1, layer)


def test_verdict_rows_fail_beats_warn_and_names_the_failing_layer():
    fs = [
        _f("nonfinite", "warn", 0, "a", "warned"),
        _f("nonfinite", "fail", 1, "b", "failed"),
        _f("nonfinite", "ok", 2),
    ]
    (row,) = verdict_rows(fs)
    assert row["status"] == "fail"
    assert row["models"] == "2/3"
    assert row["layer"] == "b"
    assert row["detail"] == "model 1: failed"


def test_verdict_rows_most_common_layer_and_its_models_detail():
    fs = [
        _f("dead_relu", "warn", 0, "a", "dead a"),
        _f("dead_relu", "warn", 1, "b", "dead b"),
        _f("dead_relu", "warn", 2, "b", "dead b2"),
    ]
    (row,) = verdict_rows(fs)
    assert row["layer"] == "b"
    assert row["detail"] == "model 1: dead b"
    assert row["models"] == "3/3"


def test_verdict_rows_two_models_prefix_the_detail_one_model_does_not():
    two = verdict_rows([_f("dead_relu", "warn", 0, "a", "x"), _f("dead_relu", "ok", 1)])
    assert two[0]["detail"] == "model 0: x" and two[0]["models"] == "1/2"
    one = verdict_rows([_f("dead_relu", "warn", 0, "a", "x")])
    assert one[0]["detail"] == "x" and one[0]["models"] == "1/1"


# "an *earlier* sampled step's update was too large": a too-large ratio at the latest step
# itself is the latest finding's business, not an earlier step to explain it by.
# Kills verdict.py:735 `r["step"] < latest` -> `<=`.
def test_too_large_at_the_latest_step_is_not_an_earlier_step():
    recs = [
        _r("l0", 1, 0, update_ratio=0.5, grad_norm=1.0, weight_norm=1.0),
        _r("l1", 1, 1, update_ratio=1e-7, grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "update_ratio")
    assert f.status == "warn" and f.layer == "l1", f.message
    assert "it was too large" not in f.message


# a ratio exactly at the low bound is within bounds (`< 1e-5` fires), so a layer that moved at
# 1e-5 after its too-large step recovered from it: slowing at the end is then a decaying
# schedule, "ok". Kills verdict.py:729 `t.update_low <= ratio` -> `<`.
def test_a_step_exactly_at_the_low_bound_counts_as_within_bounds_after_a_large_one():
    recs = [
        _r("l0", 1, 0, update_ratio=0.5, grad_norm=1.0, weight_norm=1.0),
        _r("l0", 2, 0, update_ratio=1e-5, grad_norm=1.0, weight_norm=1.0),
        _r("l0", 3, 0, update_ratio=1e-7, grad_norm=1.0, weight_norm=1.0),
    ]
    f = _find(verdict(recs), "update_ratio")
    assert f.status == "ok", f.message
    assert "too large" not in f.message
