"""Mutation review 43: contracts of today's figure helpers (dash_overlapping, plain log labels,
legend picking, curve_figure's names), counting_watches, records_of, verdict_table's check and
Watch's update_ratio check. Expected values come from matplotlib, numpy or the docstrings."""

import math
import warnings

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation
from torch import nn

from conftest import StubRun
from trainlab.errors import UserError
from trainlab.report.plots import (
    _legend_entries,
    _legend_pick,
    curve_figure,
    dash_overlapping,
    plain_log_labels,
)


# -- plain_log_labels -------------------------------------------------------------------------
def _major_labels(fig, ax):
    fig.canvas.draw()
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()]


@pytest.mark.parametrize(("lim", "plain"), [((1e-3, 1e-1), "0.001"), ((1e3, 1e5), "100000")])
def test_plain_log_labels_reach_both_ends_1e_3_and_1e5(lim, plain):
    """The docstring: plain numbers between 1e-3 and 1e5, both included."""
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], list(lim))
    ax.set_yscale("log")
    ax.set_ylim(*lim)
    plain_log_labels(fig)
    assert plain in _major_labels(fig, ax)


def test_plain_log_labels_keep_a_subclass_a_figure_chose():
    """Only matplotlib's own default (exactly LogFormatterSciNotation) is replaced."""

    class Mine(LogFormatterSciNotation):
        pass

    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0.15, 4.2])
    ax.set_yscale("log")
    mine = Mine(10)
    ax.yaxis.set_major_formatter(mine)
    plain_log_labels(fig)
    assert ax.yaxis.get_major_formatter() is mine


def test_plain_log_labels_keep_the_default_formatters_settings():
    """Which ticks are labelled stays matplotlib's but for axes of 1 to 2 decades: the
    replacement keeps labelOnlyBase of the formatter it replaces (subs=[2, 5]: minor
    labelOnlyBase=True) and labels a subset of minor ticks up to 2 decades, not 1
    (minor_thresholds (2, 0.4); test_figures_overlap_and_log_labels has why)."""
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0.15, 4.2])
    ax.set_yscale("log", subs=[2, 5])
    formatters = (ax.yaxis.get_major_formatter(), ax.yaxis.get_minor_formatter())
    before = [(f.labelOnlyBase, f.minor_thresholds) for f in formatters]
    assert (True, before[1][1]) == before[1]  # matplotlib's own choice for subs
    plain_log_labels(fig)
    after = [(f.labelOnlyBase, f.minor_thresholds)
             for f in (ax.yaxis.get_major_formatter(), ax.yaxis.get_minor_formatter())]  # fmt: skip
    assert after == [(only_base, (2, 0.4)) for only_base, _ in before]
    assert before[0][1] == (1, 0.4)  # (matplotlib's, replaced)
    assert type(ax.yaxis.get_minor_formatter()) is not LogFormatterSciNotation


# -- dash_overlapping -------------------------------------------------------------------------
def _ax(ylim=(0.0, 100.0), xlim=(0.0, 9.0)):
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.set_ylim(*ylim)
    ax.set_xlim(*xlim)
    return ax


def _solid(line):
    """No dashed copy of the line was drawn over it (dash_overlapping's copies carry its gid)."""
    from trainlab.report.plots import DASHED_GID

    return not any(
        c.get_gid() == DASHED_GID and c.get_color() == line.get_color()
        for c in line.axes.get_lines()
    )


def test_lines_exactly_tol_of_the_span_apart_overlap():
    """'within tol of the axis's y span': y span 100, tol 0.01 -> 1.0 apart is within."""
    ax = _ax()
    x = np.arange(10.0)
    a, b = ax.plot(x, 10 + x)[0], ax.plot(x, 11 + x)[0]
    assert 0.01 * 100.0 == 1.0
    assert dash_overlapping(ax, [a, b]) == 2


def test_lines_close_at_exactly_half_their_shared_x_values_overlap():
    """'at half or more of them (at least two)': close at 2 of 4 shared x."""
    ax = _ax()
    x = np.arange(4.0)
    a = ax.plot(x, [10, 10, 10, 10])[0]
    b = ax.plot(x, [10, 10, 50, 50])[0]
    assert dash_overlapping(ax, [a, b]) == 2


def test_a_line_joins_the_group_of_the_first_earlier_line_only():
    """Lines 0-2 overlap, 1-2 overlap, 0-1 do not: 2 joins 0's group; 1 stays solid."""
    ax = _ax()
    x = np.arange(10.0)
    l0 = ax.plot(x, np.full(10, 10.0))[0]
    l1 = ax.plot(x, np.full(10, 11.8))[0]
    l2 = ax.plot(x, np.full(10, 10.9))[0]
    assert dash_overlapping(ax, [l0, l1, l2]) == 2
    assert _solid(l1) and not _solid(l0) and not _solid(l2)


def test_exactly_max_dashed_lines_are_still_compared():
    """'More than MAX_DASHED_LINES lines are left as they are': 1000 is not more."""
    from trainlab.report.plots import MAX_DASHED_LINES

    ax = _ax()
    x = np.arange(10.0)
    lines = [ax.plot(x, 10 + x, lw=0.2)[0] for _ in range(MAX_DASHED_LINES)]
    ax.set_xlabel("epoch")
    dash_overlapping(ax, lines, note=True)
    assert f"{MAX_DASHED_LINES} mean lines on one another" in ax.get_xlabel()


def _points_along_x(ax, x0, x1):
    """The length in points of x0..x1 on ``ax``, from matplotlib's own transform."""
    fig = ax.figure
    (px0, _), (px1, _) = ax.transData.transform([(x0, 50.0), (x1, 50.0)])
    return abs(px1 - px0) * 72.0 / fig.dpi


def test_a_group_whose_dashes_would_be_under_1_5_points_stays_solid():
    """Two identical lines over a short x extent: 0.8 * length / 2 is ~1.2 points (< 1.5)."""
    ax = _ax(xlim=(0.0, 100.0))
    per_unit = _points_along_x(ax, 0.0, 1.0)
    extent = 3.0 / per_unit  # a 3-point long line: dashes of 0.8 * 3 / 2 = 1.2 points
    x = np.linspace(0.0, extent, 5)
    a, b = ax.plot(x, np.full(5, 50.0))[0], ax.plot(x, np.full(5, 50.0))[0]
    assert 0.8 * _points_along_x(ax, 0.0, extent) / 2 == pytest.approx(1.2, rel=0.01)
    assert dash_overlapping(ax, [a, b]) == 0
    assert _solid(a) and _solid(b)


def test_a_nan_x_is_a_gap_and_does_not_lengthen_the_group():
    """A NaN x is dropped: the same short group with a NaN x point stays solid too."""
    ax = _ax(xlim=(0.0, 100.0))
    extent = 3.0 / _points_along_x(ax, 0.0, 1.0)
    x = np.r_[np.linspace(0.0, extent, 5), np.nan]
    y = np.full(6, 50.0)
    a, b = ax.plot(x, y)[0], ax.plot(x, y)[0]
    assert dash_overlapping(ax, [a, b]) == 0
    assert _solid(a) and _solid(b)


def test_the_note_counts_the_dashed_lines_when_not_all_can_be():
    """Two groups on one another, one too short for dashes: '4 ... ; 2 of them dashed'."""
    ax = _ax(xlim=(0.0, 100.0))
    extent = 3.0 / _points_along_x(ax, 0.0, 1.0)
    short = np.linspace(0.0, extent, 5)
    long_ = np.linspace(0.0, 100.0, 5)
    lines = [ax.plot(short, np.full(5, 20.0))[0], ax.plot(short, np.full(5, 20.0))[0],
             ax.plot(long_, np.full(5, 80.0))[0], ax.plot(long_, np.full(5, 80.0))[0]]  # fmt: skip
    ax.set_xlabel("epoch")
    assert dash_overlapping(ax, lines, note=True) == 2
    assert ax.get_xlabel() == "epoch\n(4 mean lines on one another; 2 of them dashed in turn)"


def test_without_note_the_x_label_is_left_alone():
    ax = _ax()
    x = np.arange(10.0)
    a, b = ax.plot(x, 10 + x)[0], ax.plot(x, 10 + x)[0]
    ax.set_xlabel("epoch")
    assert dash_overlapping(ax, [a, b]) == 2
    assert ax.get_xlabel() == "epoch"


# -- legend picking ---------------------------------------------------------------------------
def _named_values(pick, overrides):
    return {(k, v) for i in pick for k, v in overrides[i].items()}


def test_legend_pick_names_every_value_when_they_are_exactly_shown():
    """'unless those values alone are more than shown': 3 values, 3 shown -> all 3 named
    (evenly spread 0, 4/5, 9 would miss a=1)."""
    ov = [{"a": 0}] * 8 + [{"a": 1}, {"a": 2}]
    pick = _legend_pick(10, 3, ov)
    assert len(pick) == 3
    assert _named_values(pick, ov) == {("a", 0), ("a", 1), ("a", 2)}


def test_legend_pick_ignores_keys_that_do_not_vary():
    """Only 'each key that varies' counts: a constant key adds no value to name."""
    ov = [{"a": a, "const": 1} for a in [0] * 8 + [1, 2]]
    pick = _legend_pick(10, 3, ov)
    assert {v for k, v in _named_values(pick, ov) if k == "a"} == {0, 1, 2}


def test_legend_entries_never_exceed_shown_plus_the_note():
    """At most ``shown`` entries, then the '… N more groups' line."""
    ov = [{"a": i // 10, "b": i % 10} for i in range(100)]
    handles = [object() for _ in range(100)]
    labels = [f"g{i}" for i in range(100)]
    h, lab = _legend_entries(handles, labels, shown=20, overrides=ov)
    assert len(h) == len(lab) == 21
    assert lab[-1].startswith("… 80 more groups")


def test_legend_note_does_not_claim_an_even_spread_when_grid_values_are_picked():
    """When the grid's values choose the entries, the note says how many of n are shown."""
    ov = [{"a": i // 25, "b": i % 25 % 2} for i in range(50)]  # a: 0/1, b: 0/1
    handles = [object() for _ in range(50)]
    labels = [f"g{i}" for i in range(50)]
    even = sorted({round(i * 49 / 19) for i in range(20)})
    pick = _legend_pick(50, 20, ov)
    assert pick != even  # (the grid chose some entries)
    _, lab = _legend_entries(handles, labels, shown=20, overrides=ov)
    assert lab[-1] == "… 30 more groups (20 of 50 shown)"


def test_curve_figure_legend_names_every_grid_value_under_given_names():
    """``names=`` renames the legend; the grid's values are still each named (25 groups of a
    5 x 5 grid, 20 shown)."""
    results, curves, names = [], {}, {}
    for i in range(25):
        over = {"a": i // 5, "b": i % 5}
        g = f"a={over['a']}, b={over['b']}"
        names[g] = f"scheme {i}"
        results.append({"index": i, "group": g, "overrides": over, "status": "done"})
        curves[i] = [{"epoch": e, "train_loss": 1.0 + i + 0.1 * e} for e in (1, 2, 3)]
    fig = curve_figure(StubRun(curves, results), "loss", names=names)
    (legend,) = fig.legends
    shown = [t.get_text() for t in legend.get_texts()][:-1]
    by_name = {names[r["group"]]: r["overrides"] for r in results}
    named = {(k, v) for s in shown for k, v in by_name[s].items()}
    assert {v for k, v in named if k == "a"} == set(range(5))
    assert {v for k, v in named if k == "b"} == set(range(5))


def test_a_model_that_did_not_fail_is_never_counted_as_stopped_for_nan():
    """Group B's model finished (status 'done') without a train loss: no NaN note, no x key."""
    results = [{"index": 0, "group": "A", "overrides": {"g": "A"}, "status": "done"},
               {"index": 1, "group": "B", "overrides": {"g": "B"}, "status": "done"}]  # fmt: skip
    curves = {0: [{"epoch": e, "train_loss": 1.0 / e} for e in (1, 2, 3)],
              1: [{"epoch": e, "train_acc": 0.5} for e in (1, 2, 3)]}  # fmt: skip
    fig = curve_figure(StubRun(curves, results), "loss")
    ax = fig.axes[0]
    assert "NaN" not in ax.get_xlabel()
    labels = [t.get_text() for t in fig.legends[0].get_texts()] if fig.legends else []
    assert "B" not in labels


# -- counting_watches -------------------------------------------------------------------------
def _counting_pop():
    from conftest import small_config
    from trainlab.diagnostics import watch
    from trainlab.train import Trainer

    pop = Trainer(small_config(), device="cpu").pop
    w = watch(pop, every=50)
    w._step = 3  # step 4 is next: not sampled
    return pop, w


@pytest.mark.parametrize(
    "register",
    [
        lambda pop: pop.register_full_backward_pre_hook(lambda m, go: None),
        lambda pop: nn.modules.module.register_module_full_backward_pre_hook(lambda m, go: None),
        lambda pop: nn.modules.module.register_module_full_backward_hook(lambda m, gi, go: None),
        lambda pop: nn.modules.module.register_module_forward_pre_hook(lambda m, i: None),
    ],
    ids=["backward_pre", "global_backward_pre", "global_backward", "global_forward_pre"],
)
def test_counting_watches_is_none_with_any_other_hook_there(register):
    from trainlab.diagnostics.watch import counting_watches

    pop, w = _counting_pop()
    with w:
        assert counting_watches(pop) == [w]
        h = register(pop)
        try:
            assert counting_watches(pop) is None
        finally:
            h.remove()
        assert counting_watches(pop) == [w]


def test_counting_watches_is_none_while_jit_traces():
    from trainlab.diagnostics.watch import counting_watches

    pop, w = _counting_pop()
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(counting_watches(pop))
            return x * 2

    with w:
        assert counting_watches(pop) == [w]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # (torch.jit.trace)
            torch.jit.trace(Probe(), torch.ones(2), check_trace=False)
    assert seen == [None]


# -- records_of / verdict_table / update_ratio ------------------------------------------------
def test_records_of_brings_back_the_nan_that_a_jsonl_line_names():
    from trainlab.diagnostics.run import records_of
    from trainlab.report.jsonl import encode_record

    line = encode_record({"layer": "fc", "step": 0, "model": 0, "act_std": float("nan"),
                          "grad_norm": float("inf")})  # fmt: skip
    assert line["act_std"] is None  # (as diagnostics.jsonl holds it)
    (rec,) = records_of([line])
    assert math.isnan(rec["act_std"]) and rec["grad_norm"] == math.inf


def test_records_of_one_record_instead_of_a_list_says_what_it_got():
    from trainlab.diagnostics.run import records_of

    with pytest.raises(UserError, match="got dict"):
        records_of({"layer": "fc", "step": 0})


def test_verdict_table_rejects_findings_mixed_with_other_things():
    from trainlab.diagnostics.verdict import Finding, verdict_table

    ok = Finding(check="nonfinite", status="ok", model=0, message="fine")
    verdict_table([ok])
    with pytest.raises(UserError, match="verdict_table takes the findings"):
        verdict_table([ok, {"layer": "fc", "step": 0}])


@pytest.mark.parametrize("value", [1, 0])
def test_watch_update_ratio_must_be_a_bool_not_an_int(value):
    from trainlab.diagnostics import watch

    with pytest.raises(UserError, match="update_ratio must be True or False"):
        watch(nn.Linear(2, 2), update_ratio=value)


@pytest.mark.parametrize("flag", [True, False])
def test_watch_update_ratio_takes_a_numpy_bool(flag):
    """``update_ratio=np.True_`` (a flag read from an array of settings) was refused as "must be
    True or False, got np.True_"; it means what the plain bool means."""
    from trainlab.diagnostics import watch

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, every=1, update_ratio=np.bool_(flag)) as w:
        model(torch.randn(8, 3)).square().mean().backward()
        opt.step()
    ratios = [r["update_ratio"] for r in w.records() if r["layer"] == "0"]
    assert w.measure_updates is flag
    assert (ratios[0] is not None and ratios[0] > 0) if flag else ratios[0] is None
