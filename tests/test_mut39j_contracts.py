"""Mutation review (mut39j) of the optimizers study's claim rules and claim text.

Every test feeds hand-made measurement dicts (the shapes ``optimizers.run`` builds) to the
study's judging code; no training. Expected numbers come from numpy / scipy.stats, never from
trainlab.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from conftest import optimizers_cell
from trainlab.studies import optimizers as opt

STEPS = 6000  # the paper baselines' training steps: the baseline claim is judged
QUICK = {"SGD": [0.1, 0.3, 1.0, 3.0], "momentum 0.9": [0.01, 0.03, 0.1, 0.3],
         "Adam": [1e-3, 3e-3, 0.01, 0.03]}  # fmt: skip


def _result(grid, best_lr, best_seeds, n=3, other=(1.0, 0.5, 1.0)):
    per = {lr: (list(best_seeds) if lr == best_lr else [other] * n) for lr in grid}
    return opt.summarize(optimizers_cell(per, STEPS), grid)


def _sched(train_by_name, edge_lr=None):
    """Schedules: each at its best base LR 0.03 (inside 0.01-0.3) unless ``edge_lr``."""
    lrs = [0.01, 0.03, 0.1, 0.3]
    out = {}
    for name, trains in train_by_name.items():
        best = edge_lr.get(name, 0.03) if edge_lr else 0.03
        per = {lr: ([(0.5, 0.7, t) for t in trains] if lr == best else [(0.5, 0.7, 9.0)] *
                    len(trains)) for lr in lrs}  # fmt: skip
        out[name] = opt._sched_models(optimizers_cell(per, STEPS), lrs)
    return out


DEMO = {
    "L-BFGS, full batch": [[1.0, 0.2]] * 3,
    "L-BFGS, batch 64": [[1.0, 0.6]] * 3,
    "SGD, batch 64": [[1.0, 0.8]] * 3,
}
SCHED = {"constant": [0.5, 0.52, 0.51], "step ×0.1": [0.3, 0.31, 0.32], "cosine": [0.3, 0.3, 0.31]}


def _claims(results=None, sched=None, grids=QUICK):
    if results is None:
        results = {
            ("MLP", "SGD"): _result(grids["SGD"], grids["SGD"][1], [(0.9, 0.6, 0.9)] * 3),
            ("MLP", "momentum 0.9"): _result(
                grids["momentum 0.9"], grids["momentum 0.9"][1], [(0.5, 0.6, 0.4)] * 3
            ),
            ("MLP", "Adam"): _result(grids["Adam"], grids["Adam"][1], [(0.6, 0.6, 0.4)] * 3),
        }
    rows = opt._claims(
        results, sched or _sched(SCHED), DEMO, plan={"MLP": list(grids)}, quick=False, epochs=15
    )
    return {r["claim"]: r for r in rows}


def _welch_bound(a, b, scale=1.0):
    """Independent 95% Welch bound for scale·mean(a) − mean(b) (ddof 1)."""
    va, vb = np.var(a, ddof=1) * scale**2 / len(a), np.var(b, ddof=1) / len(b)
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return sps.t.ppf(0.975, dof) * se, dof


# --- _compare: the scaled side's noise is scaled too -----------------------------------------
def test_compare_scales_the_std_of_the_scaled_side():
    a, b = [1.0, 1.2, 1.1], [1.5, 1.9, 1.7]
    bound, dof = _welch_bound(a, b, scale=1.1)
    diff = 1.1 * np.mean(a) - np.mean(b)
    verdict, text = opt._compare(a, b, 1.1)
    assert text == f"Δ -{abs(diff):.4f}, 95% bound ±{bound:.4f} (Welch dof {dof:.1f})"
    assert verdict == ("contradicted" if diff < -bound else "inconclusive (within seed noise)")


# --- _ms / _ms_acc -------------------------------------------------------------------------
def test_ms_of_one_seed_is_the_value_alone():
    assert opt._ms([0.5]) == "0.5000"
    assert opt._ms([0.5, math.inf]) == "0.5000 (1 of 2 seeds diverged)"


def test_ms_acc_counts_a_diverged_first_seed_as_zero_and_says_so():
    mods = [{"status": "nan", "final": {"test_acc": math.nan}},
            {"status": "ok", "final": {"test_acc": 0.6}}]  # fmt: skip
    vals = [0.0, 0.6]
    m, s = np.mean(vals) * 100, np.std(vals, ddof=1) * 100
    assert opt._ms_acc(mods) == f"{m:.1f}% ± {s:.1f}% (1 of 2 seeds diverged, counted as 0%)"


# --- the paper baseline: a mean AT the baseline reaches it ----------------------------------
def test_baseline_reached_by_a_mean_exactly_at_it():
    accs = [0.70, 0.66, 0.68]  # mean exactly 0.68 in floats, a nonzero spread
    assert sum(accs) / 3 == 0.68
    results = {
        ("MLP", "SGD"): _result(QUICK["SGD"], 0.3, [(0.9, 0.6, 0.9)] * 3),
        ("MLP", "momentum 0.9"): _result(QUICK["momentum 0.9"], 0.03, [(0.8, 0.6, 0.4)] * 3),
        ("MLP", "Adam"): _result(QUICK["Adam"], 3e-3, [(0.5, a, 0.4) for a in accs]),
    }
    row = _claims(results)["MLP test accuracy (best optimizer) reaches the paper's baseline"]
    assert row["verdict"] == "confirmed", row
    se = np.std(accs, ddof=1) / math.sqrt(3)
    assert (
        f"minus 68%: Δ +0.00 points, 95% bound ±{100 * sps.t.ppf(0.975, 2) * se:.2f}"
        in (row["measured"])
    )


def test_baseline_text_names_the_schedule_with_the_lowest_train_loss():
    sched = _sched({"constant": [0.5, 0.52, 0.51], "step ×0.1": [0.1, 0.11, 0.12],
                    "cosine": [0.3, 0.3, 0.31]})  # fmt: skip
    row = _claims(sched=sched)["MLP test accuracy (best optimizer) reaches the paper's baseline"]
    assert "SGD+momentum with the step ×0.1 schedule" in row["measured"], row


# --- LR-range width: grids of one size but different spans are not compared -----------------
def test_lr_range_claim_refuses_grids_of_equal_size_and_different_span():
    grids = {**QUICK, "Adam": [1e-3, 2e-3, 5e-3, 0.01]}  # span 1 decade, the others 1.48
    row = _claims(grids=grids)["Adam/RMSProp good over a wider LR range than SGD/momentum (MLP)"]
    assert row["verdict"] == "inconclusive (the LR grids differ in size or span)", row


def test_span_is_decades_between_the_grids_ends():
    assert opt._span({"lrs": [3e-3, 0.01, 0.03]}) == math.log10(10.0)
    assert abs(opt._span({"lrs": [0.1, 0.3, 1.0, 3.0]}) - math.log10(30)) < 1e-12


# --- plain SGD slowest: SGD's own grid edge makes it untuned --------------------------------
def test_sgd_slowest_claim_is_not_tuned_when_sgd_itself_sits_on_its_grid_edge():
    results = {
        ("MLP", "SGD"): _result(
            QUICK["SGD"], 3.0, [(0.9, 0.6, 0.9), (0.9, 0.6, 0.95), (0.9, 0.6, 0.92)]
        ),
        ("MLP", "momentum 0.9"): _result(QUICK["momentum 0.9"], 0.03, [(0.5, 0.6, 0.4)] * 3),
        ("MLP", "Adam"): _result(QUICK["Adam"], 3e-3, [(0.6, 0.6, 0.4)] * 3),
    }
    row = _claims(results)["plain SGD slowest: highest final training loss (MLP)"]
    assert row["verdict"].startswith("inconclusive (not tuned"), row
    assert "SGD (MLP)" in row["verdict"]


# --- schedules ------------------------------------------------------------------------------
def test_decay_claim_is_confirmed_when_the_decayed_schedule_trains_lower():
    row = _claims()["step ×0.1 decay vs constant LR (MLP, SGD+momentum)"]
    c, s = SCHED["constant"], SCHED["step ×0.1"]
    bound, dof = _welch_bound(c, s)
    diff = np.mean(c) - np.mean(s)
    assert diff > bound
    assert row["verdict"] == "confirmed", row
    assert f"constant − step ×0.1: Δ +{diff:.4f}, 95% bound ±{bound:.4f}" in row["measured"]


def test_decay_claim_is_not_tuned_when_the_constant_schedule_is_at_its_grid_edge():
    sched = _sched(SCHED, edge_lr={"constant": 0.3})
    assert sched["constant"]["edge"]
    row = _claims(sched=sched)["cosine decay vs constant LR (MLP, SGD+momentum)"]
    assert row["verdict"].startswith("inconclusive (not tuned"), row
    assert "constant schedule" in row["verdict"]


def test_schedule_best_lr_is_chosen_on_training_not_validation_loss():
    lrs = [0.01, 0.03, 0.1, 0.3]
    cell = optimizers_cell({0.01: [(0.9, 0.5, 0.9)] * 2, 0.03: [(0.7, 0.5, 0.2)] * 2,
                  0.1: [(0.3, 0.5, 0.5)] * 2, 0.3: [(0.9, 0.5, 0.9)] * 2}, STEPS)  # fmt: skip
    assert opt._sched_models(cell, lrs)["best"] == 0.03


# --- L-BFGS -------------------------------------------------------------------------------
FULL, MINI = "L-BFGS, full batch", "L-BFGS, batch 64"


def test_lbfgs_optimum_is_the_lowest_loss_of_any_model_of_the_demo_sgd_included():
    # SGD reached 0.3 somewhere: full-batch L-BFGS at 0.5 did not reach the optimum
    v = opt._lbfgs_claim({FULL: [[1.0, 0.5]] * 2, MINI: [[1.0, 0.9]] * 2,
                          "SGD, batch 64": [[0.3, 0.4]] * 2})  # fmt: skip
    assert v[3] == "contradicted" and "(0.3000)" in v[2] and "full batch 0/2" in v[2], v


def test_lbfgs_tolerance_is_one_percent_inclusive():
    # best 1.0: a final loss of exactly 1.01 (1.0·(1 + 0.01)) is within 1%; 1.0101 is not
    v = opt._lbfgs_claim({FULL: [[2.0, 1.0], [2.0, 1.01]], MINI: [[2.0, 1.0101]] * 2})
    assert v[3] == "confirmed", v
    assert (
        "within 1% of the lowest loss reached (1.0000): full batch 2/2 models, batch 64 0/2"
        in (v[2])
    )
    v = opt._lbfgs_claim({FULL: [[2.0, 1.0]] * 2, MINI: [[2.0, 1.02], [2.0, 1.04]]})
    assert v[3] == "confirmed", v  # (a 5% tolerance would count both mini-batch models)


def test_lbfgs_one_mini_batch_success_is_partly_and_every_one_contradicts():
    v = opt._lbfgs_claim({FULL: [[1.0, 0.1]] * 3, MINI: [[1.0, 0.1], [1.0, 0.5], [1.0, 0.6]]})
    assert v[3] == "partly (3/3 full-batch and 1/3 batch 64 models reached the optimum)", v
    v = opt._lbfgs_claim({FULL: [[1.0, 0.1]] * 2, MINI: [[1.0, 0.1]] * 2})
    assert v[3] == "contradicted", v


# --- table helpers ----------------------------------------------------------------------------
def test_stats_over_the_finite_values_and_none_for_a_diverged_seed():
    vals = [1.0, 2.0, 4.0]
    st = opt._stats([*vals, math.inf])
    sd = np.std(vals, ddof=1)
    assert st["values"] == [1.0, 2.0, 4.0, None]
    assert st["n"] == 3
    assert abs(st["mean"] - np.mean(vals)) < 1e-12 and abs(st["std"] - sd) < 1e-12
    assert abs(st["ci95"] - sps.t.ppf(0.975, 2) * sd / math.sqrt(3)) < 1e-9


def test_n_good_counts_the_grid_s_lrs_within_ten_percent_of_the_best_mean():
    cell = optimizers_cell({0.1: [(1.0, 0.5, 1.0)] * 2, 0.3: [(2.0, 0.5, 1.0)] * 2,
                  1.0: [(2.1, 0.5, 1.0)] * 2, 3.0: [(5.0, 0.5, 1.0)] * 2}, STEPS)  # fmt: skip
    assert opt._n_good(cell, [0.1, 0.3, 1.0, 3.0]) == "1/4"


def test_edge_text_lists_only_the_optimizers_at_their_grid_edge():
    inside = _result(QUICK["Adam"], 3e-3, [(0.5, 0.6, 0.4)] * 2, n=2)
    edge = _result(QUICK["SGD"], 3.0, [(0.5, 0.6, 0.4)] * 2, n=2)
    text = opt._edge_text({("MLP", "Adam"): inside, ("MLP", "SGD"): edge})
    assert "- SGD (MLP): best lr 3 is the largest LR of the grid (0.1, 0.3, 1, 3)" in text
    assert "Adam (MLP)" not in text
    assert opt._edge_text({("MLP", "Adam"): inside}).startswith("Every best LR lies strictly")


def test_lr_range_text_quotes_the_mean_width_over_seeds():
    row = _claims()["Adam/RMSProp good over a wider LR range than SGD/momentum (MLP)"]
    # each seed: only its best-LR value (0.6 / 0.5 / 0.9) is within 10% of its own best (1.0
    # elsewhere), so 3 seeds × 1 LR: a mean of 1.00 of 4
    assert "Adam 1.00/4" in row["measured"] and "SGD 1.00/4" in row["measured"], row


def test_left_out_is_empty_for_the_full_study():
    plan = {"MLP": list(opt.OPTIMIZERS), "CNN": list(opt.OPTIMIZERS)}
    assert opt._left_out(plan, opt.OPTIMIZERS, 5, 15, 200) == []
    assert "4 seeds instead of 5" in opt._left_out(plan, opt.OPTIMIZERS, 4, 15, 200)
