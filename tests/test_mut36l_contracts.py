"""Mutation review mut36l: trainlab.report.stats / report.tables number formatting and
cli/core.py summary_table's MAX_GROUP_ROWS selection. Each test names the mutant it kills;
expected values come from numpy, hand computation, or the docstrings' promises (fmt_fixed:
"scientific notation outside [1e-3, 1e5)"; fmt_share: "100%" only for all; aggregate: ±Inf
left out; summary_table: "the best groups, in the config's order") - never from running
trainlab."""

from __future__ import annotations

import io
import math
import re

import numpy as np
from rich.console import Console

from trainlab.cli.core import MAX_GROUP_ROWS, summary_table
from trainlab.report.stats import aggregate, sample_std
from trainlab.report.tables import fmt_fixed, fmt_share


# Kills report/stats.py:88 sample_std `if len(xs) > 1` -> `if len(xs) > 2` (two seeds would
# read as no spread). numpy's ddof=1 std of [1, 3] is sqrt(2).
def test_sample_std_of_two_values_is_the_ddof1_std():
    assert math.isclose(sample_std([1.0, 3.0]), float(np.std([1.0, 3.0], ddof=1)))
    assert math.isclose(sample_std([1.0, 3.0]), math.sqrt(2.0))
    assert sample_std([5.0]) == 0.0


# Kills report/stats.py:19 `except OverflowError` -> another exception (an int beyond float's
# range then crashes). Docstring: ±Inf entries are left out and an int too big for a float is
# infinite as a float, so aggregate([10**400, 1.0, 3.0]) is the aggregate of [1, 3]: n = 2,
# mean 2, std sqrt(2) (numpy ddof=1).
def test_aggregate_leaves_out_an_int_beyond_float_range():
    a = aggregate([10**400, 1.0, 3.0])
    assert a["n"] == 2
    assert math.isclose(a["mean"], 2.0)
    assert math.isclose(a["std"], float(np.std([1.0, 3.0], ddof=1)))


# Kills report/tables.py:62 `not 1e-3 <= abs(f) < 1e5` -> `not 1e-4 <= ...` (lower bound) and
# -> `... <= 1e5` (upper bound). The docstring promises scientific notation outside
# [1e-3, 1e5), with decimals - 1 = 3 mantissa decimals; 1e-3 itself and 99999 stay fixed.
def test_fmt_fixed_switches_to_scientific_exactly_outside_the_documented_range():
    assert fmt_fixed(0.0005) == "5.000e-04"
    assert fmt_fixed(-0.0005) == "-5.000e-04"
    assert fmt_fixed(0.001) == "0.0010"
    assert fmt_fixed(1e5) == "1.000e+05"
    assert fmt_fixed(99999.0) == "99999.0000"
    assert fmt_fixed(0.0) == "0.0000"


# Kills report/tables.py:97 fmt_share `x < 1` -> `x <= 1`: the docstring says "100%" is for
# all (x == 1), ">99%" only for a share that rounds to 100% but is not all.
def test_fmt_share_says_100_percent_for_all_and_more_than_99_just_below():
    assert fmt_share(1.0) == "100%"
    assert fmt_share(0.999) == ">99%"
    assert fmt_share(0.0) == "0%"
    assert fmt_share(0.004) == "<1%"


def _agg(mean, n=3):
    if mean is None:
        return {"mean": None, "std": None, "ci95": None, "n": 0}
    return {"mean": mean, "std": 0.01, "ci95": 0.02, "n": n}


def _summary(means):
    groups = []
    for i, m in enumerate(means):
        groups.append(
            {
                "group": f"grp{i:02d}",
                "n": 3,
                "aggregates": {
                    "test_acc": _agg(m, 0 if m is None else 3),
                    "test_loss": _agg(None if m is None else 1 - m, 0 if m is None else 3),
                    "val_acc": _agg(m, 0 if m is None else 3),
                },
            }
        )
    return {"name": "sweep", "k": 3 * len(means), "epochs": 1, "groups": groups}


def _shown(summary):
    buf = io.StringIO()
    Console(file=buf, width=400, color_system=None, emoji=False).print(
        summary_table(summary, has_test=True, has_val=True)
    )
    text = buf.getvalue()
    return re.findall(r"\bgrp\d\d\b", text), text


# Kills cli/core.py:195 `len(groups) > MAX_GROUP_ROWS` -> a later threshold, :201 the sort
# direction (-mean_acc -> mean_acc), and :206 `sorted(best)` -> `best` (rows in rank order
# instead of the config's). 31 groups with test_acc mean i/100 (grp00 = 0.00 .. grp30 = 0.30):
# by hand the 30 best are grp01..grp30, shown in config order, with the caption.
def test_summary_table_of_31_groups_shows_the_30_best_in_config_order():
    assert MAX_GROUP_ROWS == 30
    means = [i / 100 for i in range(31)]
    # shuffle the means over the config order so that rank order != config order
    order = [(7 * i) % 31 for i in range(31)]  # a permutation of 0..30 (7 coprime to 31)
    summary = _summary([means[j] for j in order])
    shown, text = _shown(summary)
    worst = order.index(0)  # the group holding mean 0.00
    expected = [f"grp{i:02d}" for i in range(31) if i != worst]
    assert shown == expected
    assert "the 30 groups with the best mean test_acc of 31" in text


# Exactly MAX_GROUP_ROWS groups: all shown, no caption (the selection is for longer sweeps).
def test_summary_table_of_30_groups_shows_all_without_a_caption():
    shown, text = _shown(_summary([i / 100 for i in range(30)]))
    assert shown == [f"grp{i:02d}" for i in range(30)]
    assert "best mean" not in text


# Kills cli/core.py:199 `-math.inf if m is None` -> `math.inf`: a group whose models all
# stopped for NaN/Inf (no mean) must not displace a group with a measured accuracy. 32 groups:
# two without a mean (grp00, grp01), 30 with means -> exactly the 30 measured ones are shown.
def test_summary_table_drops_groups_without_a_mean_first():
    shown, _ = _shown(_summary([None, None] + [0.5 + i / 100 for i in range(30)]))
    assert shown == [f"grp{i:02d}" for i in range(2, 32)]


# Kills report/plots.py:127 `np.maximum(n - 1, 1)` -> `np.maximum(n, 1)` (population std) and
# `np.where(n > 1, ...)` -> `n > 2` (two seeds drawn without a band). plot_curves' docstring
# promises a mean ± std band with the sample std (ddof=1) over the seeds, NaN left out;
# expected from numpy's nanmean / nanstd(ddof=1) per column.
def test_curve_band_is_the_ddof1_std_over_finite_seeds():
    from trainlab.report.plots import _mean_std

    vals = np.array(
        [
            [1.0, 2.0, 0.5, 4.0],
            [3.0, np.nan, 1.5, 4.0],
            [5.0, np.nan, 2.5, np.nan],
        ]
    )
    mean, std, n = _mean_std(vals)
    assert n.tolist() == [3, 1, 3, 2]
    np.testing.assert_allclose(mean, np.nanmean(vals, axis=0))
    expected = [np.std([1.0, 3.0, 5.0], ddof=1), 0.0, np.std([0.5, 1.5, 2.5], ddof=1), 0.0]
    np.testing.assert_allclose(std, expected)
    two = _mean_std(np.array([[1.0], [3.0]]))[1]
    np.testing.assert_allclose(two, [math.sqrt(2.0)])


# Kills report/tables.py:84 fmt_over_seeds dropping the ", CI ± …" part. Docstring:
# "mean ± std (n=…, CI ± …)". [1, 2, 3]: mean 2, std (ddof=1) 1, CI half-width
# t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.4841 (scipy.stats.t.ppf).
def test_fmt_over_seeds_shows_mean_std_n_and_the_t_interval():
    from scipy.stats import t

    from trainlab.report.tables import fmt_over_seeds

    ci = t.ppf(0.975, 2) / math.sqrt(3)
    assert f"{ci:.4f}" == "2.4841"
    assert fmt_over_seeds([1.0, 2.0, 3.0, float("nan")]) == "2.0000 ± 1.0000 (n=3, CI ± 2.4841)"
    assert fmt_over_seeds([0.5]) == "0.5000 (n=1: no spread)"
