"""Review (science17): do the diagnostics tell the textbook training-failure story right?"""

import torch
from torch import nn

from trainlab.diagnostics import verdict, watch


def _find(findings, check):
    return next(f for f in findings if f.check == check)


def test_an_output_counts_as_non_finite_only_where_its_float32_sum_overflows():
    # The watch tells a NaN/Inf output by its float32 sum Σ(y−c): huge finite values whose sum
    # overflows float32 (1000 values up to 1e37) count as non-finite, as a gradient whose
    # float32 norm overflows does (README, nonfinite row; the exact test, a float64 sum, costs
    # 4-6x that reduction on every sampled step). stats.py claimed that sum "stays finite".
    # Values whose squares overflow (std inf) but whose sum does not are finite.
    from trainlab.diagnostics import stats

    assert "stays finite" not in (stats.moment_sums.__doc__ or "")

    def origin(top: float):
        m = nn.Sequential(nn.Linear(1, 1000, bias=False), nn.Linear(1000, 1, bias=False))
        with torch.no_grad():
            m[0].weight.copy_(torch.linspace(0, top, 1000)[:, None])
            m[1].weight.fill_(1e-30)  # the last output stays finite and small
        with watch(m, every=1) as w:
            m(torch.ones(2, 1)).sum().backward()
        recs = sorted(w.records(), key=lambda r: r["order"])
        return [r["nonfinite"] for r in recs], recs

    flags, recs = origin(1e30)  # squares overflow (std inf), the sum (5e32) does not
    assert flags == [False, False] and recs[0]["act_std"] == float("inf")
    flags, _ = origin(1e37)  # the sum (5e39) overflows float32: counted as non-finite
    assert flags == [True, False]


def _rec(step, layer, order, kind, act_std, **kw):
    r = {"model": 0, "step": step, "layer": layer, "order": order, "kind": kind,
         "act_std": act_std, "act_mean": 0.0, "nonfinite": False, "weight_norm": None,
         "grad_norm": None, "out_grad_norm": None, "update_ratio": None,
         "dead_fraction": None, "saturated_fraction": None}  # fmt: skip
    r.update(kw)
    return r


def test_large_activations_from_too_high_lr_do_not_blame_inputs_or_init():
    # Wrong: Adam lr 0.2 on a He-init ReLU MLP over standardized digits (`trainlab diagnose`
    # with preprocess: standardize, init he_normal) grows std from 1.4 at step 0 to ~1e3; the
    # verdict says "unscaled inputs (standardize them) or too large an init" although step 0
    # shows both were fine and its update/weight ratio was 1.2 (> 0.1). Right: don't name
    # inputs/init when step-0 activations were in range; point at the too-large updates.
    recs = []
    for step, stds, ratio in ((0, (1.4, 1.4, 1.4), 1.2), (50, (12.0, 400.0, 30.0), 0.01)):
        for i, (name, std) in enumerate(zip(("0", "2", "4"), stds, strict=True)):
            recs.append(_rec(step, name, 2 * i, None, std, weight_norm=10.0, grad_norm=0.5,
                             out_grad_norm=0.5, update_ratio=ratio))  # fmt: skip
            if name != "4":
                recs.append(_rec(step, str(2 * i + 1), 2 * i + 1, "relu", std * 0.6,
                                 dead_fraction=0.0))  # fmt: skip
    f = _find(verdict(recs), "activations")
    assert f.status == "warn"
    assert "unscaled inputs" not in f.message and "too large an init" not in f.message


def test_cosine_annealed_healthy_adam_run_is_not_flagged_too_slow():
    # Wrong: a healthy He-init ReLU MLP with Adam 1e-3 and a cosine schedule (ratio ~1e-3 for
    # most of the run) gets "update/weight ratio too small: 4e-06" because only the latest
    # sampled step, where the schedule has annealed lr to ~0, is judged (also via `trainlab
    # diagnose --every 1 --set schedule.name=cosine`). Right: no "too slow" warning for a run
    # that moved at a healthy rate and only slowed as its schedule ended.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 32, generator=g)
    y = (x[:, 0] > 0).long()
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    for layer in m:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    steps = 30
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    with watch(m, every=1) as w:
        for s in range(steps):
            i = s * 32 % 256
            loss = nn.functional.cross_entropy(m(x[i : i + 32]), y[i : i + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    f = _find(verdict(w.records()), "update_ratio")
    assert f.status == "ok", f.message
