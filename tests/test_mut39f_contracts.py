"""Mutation review (mut39f) of ``watch(model, every=N)``'s per-layer statistics.

Every expected value is computed independently: plain torch forward hooks / tensor hooks on
the same batch and numpy, never trainlab.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


def _outputs(model: nn.Module, x: torch.Tensor, names: list[str]) -> dict[str, np.ndarray]:
    """Each named module's first-call output on ``x``, by plain forward hooks (no trainlab)."""
    mods = dict(model.named_modules())
    got: dict[str, np.ndarray] = {}

    def keep(n: str, y: torch.Tensor) -> None:  # (returns None: the output stays as it is)
        got.setdefault(n, y.detach().double().numpy().copy())

    hs = [mods[n].register_forward_hook(lambda m, a, y, n=n: keep(n, y)) for n in names]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hs:
            h.remove()
    return got


def _by_layer(records: list[dict], step: int = 0, model: int = 0) -> dict[str, dict]:
    return {r["layer"]: r for r in records if r["step"] == step and r["model"] == model}


def _np_hist(y: np.ndarray, lo: float, hi: float, bins: int) -> tuple[list[int], int, int]:
    """Counts in ``bins`` bins ``[lo + j·w, lo + (j+1)·w)`` plus under/over, in float64."""
    v = y.ravel()
    pos = np.floor((v - lo) / ((hi - lo) / bins))
    under = int((pos < 0).sum())
    over = int((pos >= bins).sum())
    counts = [int((pos == j).sum()) for j in range(bins)]
    return counts, under, over


# ---------------------------------------------------------------------------------------------
# ReLU6: a unit at its cap 6 on every sample passes no gradient: dead (README / watch docstring)
def test_relu6_units_at_the_cap_on_every_sample_count_as_dead():
    lin = nn.Linear(4, 4)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[2, 0] = 1.0  # unit 2 follows x0 (in (0, 6) for some samples): alive
        lin.weight[3, 0] = 1.0  # unit 3 alive too
        lin.bias.copy_(torch.tensor([10.0, -5.0, 0.0, 0.0]))  # unit 0 at 6, unit 1 at 0
    model = nn.Sequential(lin, nn.ReLU6())
    x = torch.rand(8, 4) + 0.5  # x0 in [0.5, 1.5): units 2 and 3 inside (0, 6)
    y = _outputs(model, x, ["1"])["1"]  # (B, D)
    # by hand: dead where no sample lies strictly inside (0, 6)
    inside = ((y > 0) & (y < 6)).any(axis=0)
    expected = float((~inside).mean())
    assert expected == 0.5
    with watch(model) as w:
        model(x).sum().backward()
    assert _by_layer(w.records())["1"]["dead_fraction"] == expected


# (K, B, D) peaks: the units are the last axis, the batch axis is reduced (not the reverse)
def test_dead_fraction_counts_units_not_samples():
    lin = nn.Linear(3, 5)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[0, 0] = 1.0  # unit 0 = x0: positive on some samples only
        lin.bias.copy_(torch.tensor([0.0, -1.0, -1.0, -1.0, 1.0]))  # units 1-3 dead, 4 alive
    model = nn.Sequential(lin, nn.ReLU())
    x = torch.zeros(7, 3)
    x[0, 0] = 1.0  # only sample 0 makes unit 0 fire
    y = _outputs(model, x, ["1"])["1"]
    expected = float((y.max(axis=0) <= 0).mean())  # per unit over the batch: 3 of 5
    assert expected == 0.6
    with watch(model) as w:
        model(x).sum().backward()
    assert _by_layer(w.records())["1"]["dead_fraction"] == pytest.approx(expected, abs=1e-12)


# saturation thresholds: tanh/softsign |y| > 0.99 strictly; sigmoid y > 0.99 or y < 0.01
def test_softsign_exactly_at_the_tanh_limit_is_not_saturated():
    model = nn.Sequential(nn.Linear(1, 1), nn.Softsign())
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.zero_()
    # softsign(99) = 99/100: float32 0.99 exactly (not above it); softsign(200) = 0.995
    x = torch.tensor([[99.0], [99.0], [200.0], [0.0]])
    y = _outputs(model, x, ["1"])["1"].astype(np.float32)
    expected = float((np.abs(y) > np.float32(0.99)).mean())
    assert expected == 0.25
    with watch(model) as w:
        model(x).sum().backward()
    assert _by_layer(w.records())["1"]["saturated_fraction"] == pytest.approx(expected, abs=1e-12)


def test_sigmoid_saturation_counts_values_just_beyond_0_99():
    model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.zero_()
    # sigmoid(±4.8) = 0.9918 / 0.0082: saturated (beyond 0.99 / below 0.01), sigmoid(4) not
    x = torch.tensor([[4.8], [-4.8], [4.0], [0.0], [-4.0]])
    y = _outputs(model, x, ["1"])["1"]
    expected = float(((y > 0.99) | (y < 0.01)).mean())
    assert expected == 0.4
    with watch(model) as w:
        model(x).sum().backward()
    assert _by_layer(w.records())["1"]["saturated_fraction"] == pytest.approx(expected, abs=1e-12)


def test_hardtanh_and_hardsigmoid_at_their_limits_are_saturated():
    model = nn.Sequential(nn.Linear(1, 1), nn.Hardtanh(), nn.Linear(1, 1), nn.Hardsigmoid())
    with torch.no_grad():
        for i in (0, 2):
            model[i].weight.fill_(1.0)
            model[i].bias.zero_()
    x = torch.tensor([[5.0], [-5.0], [0.5], [0.0]])  # hardtanh: 1, -1 at the limits
    out = _outputs(model, x, ["1", "3"])
    # hardtanh y <= -1 or y >= 1; hardsigmoid y <= 0 or y >= 1 (docs of stats)
    exp_ht = float(((out["1"] <= -1) | (out["1"] >= 1)).mean())
    exp_hs = float(((out["3"] <= 0) | (out["3"] >= 1)).mean())
    assert exp_ht == 0.5
    x2 = torch.tensor([[6.0], [-6.0], [0.5], [0.0]])
    with watch(model) as w:
        model(x).sum().backward()
    recs = _by_layer(w.records())
    assert recs["1"]["saturated_fraction"] == pytest.approx(exp_ht, abs=1e-12)
    assert recs["3"]["saturated_fraction"] == pytest.approx(exp_hs, abs=1e-12)
    # hardsigmoid exactly at 0 and 1: x = ±3 after a Linear of weight 1
    m2 = nn.Sequential(nn.Linear(1, 1), nn.Hardsigmoid())
    with torch.no_grad():
        m2[0].weight.fill_(0.5)
        m2[0].bias.zero_()
    y2 = _outputs(m2, x2, ["1"])["1"]  # hardsigmoid(±3) = 1, 0 exactly
    exp2 = float(((y2 <= 0) | (y2 >= 1)).mean())
    assert exp2 == 0.5
    with watch(m2) as w2:
        m2(x2).sum().backward()
    assert _by_layer(w2.records())["1"]["saturated_fraction"] == pytest.approx(exp2, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# moments, histogram and norms against plain hooks
def _net() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 5), nn.Tanh())


# watch() and Watch(...).attach() (the by-hand form its docstring offers) share the defaults
@pytest.mark.parametrize("by_hand", [False, True], ids=["watch", "Watch.attach"])
def test_default_histogram_is_60_bins_over_minus_3_to_3_and_counts_every_value(by_hand):
    from trainlab.diagnostics.watch import Watch

    model = _net()
    x = torch.randn(20, 6) * 3 + 0.5
    names = ["0", "1", "2", "3"]
    out = _outputs(model, x, names)
    if by_hand:
        w = Watch(model).attach()
        try:
            model(x).sum().backward()
        finally:
            w.detach()
    else:
        with watch(model) as w:
            model(x).sum().backward()
    recs = _by_layer(w.records())
    edges = np.linspace(-3.0, 3.0, 61)
    for n in names:
        r = recs[n]
        assert np.allclose(r["hist_edges"], edges, atol=1e-6), n
        counts, under, over = _np_hist(out[n], -3.0, 3.0, 60)
        assert (r["hist"], r["hist_under"], r["hist_over"]) == (counts, under, over), n
        assert sum(r["hist"]) + r["hist_under"] + r["hist_over"] == out[n].size


def test_given_edges_put_a_value_on_an_edge_in_the_bin_above():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    torch.manual_seed(0)
    x = torch.randn(10, 3)
    y = _outputs(model, x, ["1"])["1"]
    edges = [-1.0, 0.0, 0.5, 1.0]
    counts, _ = np.histogram(y.ravel(), bins=[-1.0, 0.0, 0.5])  # [e_i, e_i+1) for these two
    exp = [int(counts[0]), int(counts[1]), int(((y >= 0.5) & (y < 1.0)).sum())]
    assert exp[1] >= int((y == 0).sum()) > 0  # the ReLU zeros belong in [0, 0.5)
    with watch(model, bins=edges) as w:
        model(x).sum().backward()
    r = _by_layer(w.records())["1"]
    assert r["hist"] == exp
    assert r["hist_under"] == int((y < -1).sum()) and r["hist_over"] == int((y >= 1).sum())


def test_hist_edges_of_a_count_keep_six_significant_decimals():
    model = nn.Sequential(nn.Linear(2, 2))
    with watch(model, bins=3, hist_range=(-1.0, 1.0)) as w:
        model(torch.randn(4, 2)).sum().backward()
    edges = w.records()[0]["hist_edges"]
    assert edges == pytest.approx(list(np.linspace(-1.0, 1.0, 4)), abs=1e-6)


def test_act_mean_and_population_std_with_a_large_offset():
    model = nn.Sequential(nn.Linear(4, 8))
    torch.manual_seed(1)
    with torch.no_grad():
        model[0].bias.fill_(5.0)  # mean far from 0: a dropped mean term shows
    x = torch.randn(12, 4)
    y = _outputs(model, x, ["0"])["0"]
    with watch(model) as w:
        model(x).sum().backward()
    r = _by_layer(w.records())["0"]
    assert r["act_mean"] == pytest.approx(y.mean(), rel=1e-5)
    assert r["act_std"] == pytest.approx(y.std(ddof=0), rel=1e-4)


def test_weight_grad_and_out_grad_norms_match_plain_torch():
    model = _net()
    x = torch.randn(9, 6)
    ref = copy.deepcopy(model)
    # by hand: ∂L/∂y of each layer's output by tensor hooks, then .grad
    outs: dict[str, torch.Tensor] = {}
    mods = dict(ref.named_modules())
    hs = [
        mods[n].register_forward_hook(
            lambda m, a, y, n=n: None if n in outs else outs.update({n: y})
        )
        for n in ("0", "1", "2", "3")
    ]
    wn = {n: float(torch.cat([p.detach().ravel() for p in mods[n].parameters()]).norm())
          for n in ("0", "2")}  # fmt: skip
    loss = ref(x).pow(2).sum()
    for h in hs:
        h.remove()
    for y in outs.values():
        y.retain_grad()
    loss.backward()
    gn = {n: float(torch.cat([p.grad.ravel() for p in mods[n].parameters()]).norm())
          for n in ("0", "2")}  # fmt: skip
    ogn = {n: float(y.grad.norm()) for n, y in outs.items()}
    with watch(model) as w:
        model(x).pow(2).sum().backward()
    recs = _by_layer(w.records())
    for n in ("0", "2"):
        assert recs[n]["weight_norm"] == pytest.approx(wn[n], rel=1e-6), n
        assert recs[n]["grad_norm"] == pytest.approx(gn[n], rel=1e-5), n
    for n in ("0", "1", "2", "3"):
        assert recs[n]["out_grad_norm"] == pytest.approx(ogn[n], rel=1e-5), n


# ---------------------------------------------------------------------------------------------
# step counting
def test_evaluation_mode_forwards_with_autograd_on_are_not_steps():
    model = _net()
    x = torch.randn(4, 6)
    with watch(model, every=2) as w:
        for _ in range(4):
            model.train()
            model(x).sum().backward()
            model.eval()
            model(x)  # evaluation forward, autograd on: not a step
    assert sorted({r["step"] for r in w.records()}) == [0, 2]


def test_a_module_called_twice_is_measured_at_its_first_call():
    shared = nn.Tanh()
    lin = nn.Linear(3, 3)

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin, self.act = lin, shared

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(self.lin(self.act(x)))

    model = Twice()
    x = torch.randn(6, 3) * 2
    first = np.tanh(x.double().numpy())
    with watch(model) as w:
        model(x).sum().backward()
    r = _by_layer(w.records())["act"]
    assert r["calls"] == 2
    assert r["act_mean"] == pytest.approx(first.mean(), rel=1e-5, abs=1e-7)
    assert r["act_std"] == pytest.approx(first.std(), rel=1e-5)


def test_hooks_are_removed_after_the_block():
    model = _net()
    before = [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in model.modules()]
    with watch(model, every=1):
        model(torch.randn(2, 6)).sum().backward()
    after = [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in model.modules()]
    assert after == before


# ---------------------------------------------------------------------------------------------
# populations: per-model statistics over that model's own values
def test_population_statistics_are_per_model():
    from trainlab.population import Population

    torch.manual_seed(5)
    plains = [nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1)) for _ in range(3)]
    with torch.no_grad():
        plains[1][0].bias.fill_(2.0)  # different means per model
        plains[2][0].weight.mul_(4.0)  # and saturation
    x = torch.randn(3, 10, 4) * 2
    exp = {}
    for i, p in enumerate(plains):
        out = _outputs(p, x[i], ["0", "1"])
        exp[i] = out
    pop = Population.from_models([copy.deepcopy(p) for p in plains])
    with watch(pop) as w:
        pop(x).sum().backward()
    recs = w.records()
    for i in range(3):
        r = _by_layer(recs, model=i)
        for n in ("0", "1"):
            y = exp[i][n]
            assert r[n]["act_mean"] == pytest.approx(y.mean(), rel=1e-5, abs=1e-6), (i, n)
            assert r[n]["act_std"] == pytest.approx(y.std(ddof=0), rel=1e-4), (i, n)
            counts, under, over = _np_hist(y, -3.0, 3.0, 60)
            assert (r[n]["hist"], r[n]["hist_under"], r[n]["hist_over"]) == (counts, under, over)
        sat = float((np.abs(exp[i]["1"].astype(np.float32)) > np.float32(0.99)).mean())
        assert r["1"]["saturated_fraction"] == pytest.approx(sat, abs=1e-12), i
        wn = float(torch.cat([q.detach().ravel() for q in plains[i][0].parameters()]).norm())
        assert r["0"]["weight_norm"] == pytest.approx(wn, rel=1e-6), i


# a NaN output is counted in the overflow column (stats.histogram / uniform_histogram docs:
# "the last column values >= high (and NaN)"), so that under + bins + over = every value
@pytest.mark.parametrize("bins", [60, [-3.0, 0.0, 3.0]], ids=["count", "edges"])
def test_nan_outputs_are_counted_as_overflow(bins):
    model = nn.Sequential(nn.Linear(3, 4))
    torch.manual_seed(2)
    x = torch.randn(6, 3)
    x[1, 0] = float("nan")  # sample 1: all 4 outputs NaN
    y = _outputs(model, x, ["0"])["0"]
    n_nan = int(np.isnan(y).sum())
    assert n_nan == 4
    finite = y[~np.isnan(y)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with watch(model, bins=bins) as w:
            model(x).sum().backward()
    r = _by_layer(w.records())["0"]
    assert r["nonfinite"] is True or r["nonfinite"] == 1
    assert r["hist_over"] == n_nan + int((finite >= 3.0).sum())
    assert r["hist_under"] == int((finite < -3.0).sum())
    assert sum(r["hist"]) == finite.size - int((finite >= 3.0).sum()) - r["hist_under"]
