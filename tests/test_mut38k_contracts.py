"""Mutation review (mut38k) of the optimizers study's set-up and measurement
(src/trainlab/studies/optimizers.py, not its claim rules): what the study trains (optimizers, LR
grids, models, quick vs full, schedules), how it picks best LRs and counts good LRs, and the
numbers it writes (tables, figures, results.json).

The study's training is replaced by a fake ``train_cell`` that records each population config
and returns hand-made final values and curves, so the expected numbers are hand/numpy
computations on those values, and the set-up is checked against the module docstring (issue 5:
"optimizer × LR grid × ≥5 seeds on mnist1d (MLP and CNN) ...; step decay vs cosine vs none")."""

from __future__ import annotations

import contextlib
import inspect
import json
import math

import numpy as np
import pytest
import torch
from scipy import stats as sps

from trainlab.errors import UserError
from trainlab.studies import optimizers as opt

# -- a fake train_cell ----------------------------------------------------------------------------
# final losses by LR index (grid of 4 in quick mode, of 5 in full mode; the schedules' grid has 4)
VAL = {4: [1.5, 1.2, 1.0, 1.3], 5: [1.5, 1.2, 1.0, 1.05, 1.3]}  # best: index 2
TRAIN = {4: [1.4, 0.9, 1.1, 1.6], 5: [1.4, 0.9, 1.1, 1.2, 1.6]}  # best: index 1
SCHED_OFFSET = {"schedule-constant": 0.0, "schedule-step ×0.1": -0.1, "schedule-cosine": -0.2}


def _final(n_lrs, i, s, name):
    off = SCHED_OFFSET.get(name, 0.0)
    return {
        "val_loss": VAL[n_lrs][i] + 0.01 * s,
        "train_loss": TRAIN[n_lrs][i] + 0.02 * s + off,
        "test_loss": 1.0 + 0.03 * s,
        "test_acc": 0.5 + 0.05 * i + 0.01 * s,
        "val_acc": 0.3,
    }


def _curve(final_train, epoch, epochs, s):
    return final_train * (1 + 0.1 * (epochs - epoch)) + 0.05 * s * epoch


class Fake:
    def __init__(self, monkeypatch, nan_at=None):
        self.nan_at = nan_at  # (cell name, LR index, seed) of a model stopped for NaN
        self.raws, self.figures, self.demo_calls = [], {}, []
        monkeypatch.setattr(opt, "train_cell", self.train_cell)
        monkeypatch.setattr(opt, "lbfgs_batch_demo", self.demo)
        monkeypatch.setattr(opt, "cpu_threads", lambda device, n=1: contextlib.nullcontext())
        from trainlab.report import Report

        orig = Report.add_figure

        def add_figure(rep, name, fig, *a, **k):
            self.figures[name] = fig
            return orig(rep, name, fig, *a, **k)

        monkeypatch.setattr(Report, "add_figure", add_figure)

    def train_cell(self, raw, out, device):
        self.raws.append(json.loads(json.dumps(raw)))
        lrs, seeds = raw["population"]["grid"]["optim.lr"], raw["population"]["seeds"]
        epochs = raw["train"]["epochs"]
        models, metrics = [], []
        for i, lr in enumerate(lrs):
            for s in seeds:
                k = len(models)
                fin = _final(len(lrs), i, s, raw["name"])
                status = "ok"
                if self.nan_at == (raw["name"], i, s):
                    status, fin = "nan", {k: None for k in fin}
                models.append({"index": k, "seed": s, "overrides": {"optim.lr": lr},
                               "status": status, "final": fin})  # fmt: skip
                if status == "nan":
                    continue
                for e in range(1, epochs + 1):
                    loss = _curve(fin["train_loss"], e, epochs, s)
                    metrics.append({"model": k, "epoch": e, "step": 10 * e, "train_loss": loss})
        return {"summary": {"models": models}, "metrics": metrics}

    def demo(self, n_seeds, steps, **kw):
        self.demo_calls.append((n_seeds, steps))
        return {
            "L-BFGS, full batch": [[1.0, 0.1]] * n_seeds,
            "L-BFGS, batch 64": [[1.0, 0.5]] * n_seeds,
            "SGD, batch 64": [[1.0, 0.7]] * n_seeds,
        }

    def raw(self, name):
        hits = [r for r in self.raws if r["name"] == name]
        assert len(hits) == 1, (name, [r["name"] for r in self.raws])
        return hits[0]


def _sections(out):
    return json.loads((out / "report_sections.json").read_text())["sections"]


def _text(out):
    return "\n".join(s["text"] for s in _sections(out) if s["kind"] == "text")


def _faked_run(out, **kwargs):
    """The study run once with the fake training, on a machine without a GPU; the patches are
    undone when it returns (the tests read its folder and the fake's records)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.cuda, "is_available", lambda: False)
        fake = Fake(mp)
        return fake, opt.run(out, **kwargs)


# (module scope: each run renders the study's figures, 1-3 s; the tests only read them)
@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return _faked_run(tmp_path_factory.mktemp("mut38k") / "q", quick=True, device="cpu")


@pytest.fixture(scope="module")
def full_cpu(tmp_path_factory):  # device auto on a machine without a GPU
    return _faked_run(tmp_path_factory.mktemp("mut38k") / "f", quick=False, device="auto")


# -- what runs -------------------------------------------------------------------------------------
def test_quick_mode_trains_the_documented_populations(quick):
    """Docstring: quick mode = the MLP only, with SGD, momentum and Adam on 4-point LR grids, 2
    seeds and 8 epochs; mnist1d, batch 100; MLP 40-100-100-10."""
    fake, out = quick
    names = [r["name"] for r in fake.raws]
    assert names[:3] == ["MLP-SGD", "MLP-momentum 0.9", "MLP-Adam"]
    for r in fake.raws:
        assert r["data"] == {"name": "mnist1d"}
        assert r["train"] == {"epochs": 8, "batch_size": 100}
        assert r["population"]["seeds"] == [0, 1]
        assert r["model"] == {"name": "mlp", "hidden": [100, 100]}
        assert len(r["population"]["grid"]["optim.lr"]) == 4
    assert fake.demo_calls == [(2, opt.QUICK_DEMO_STEPS)]


def test_quick_grids_are_30x_wide_like_the_docstring_says(quick):
    fake, _ = quick
    for name in ("MLP-SGD", "MLP-momentum 0.9", "MLP-Adam"):
        lrs = fake.raw(name)["population"]["grid"]["optim.lr"]
        assert max(lrs) / min(lrs) == pytest.approx(30.0), (name, lrs)


def test_optimizer_configs_are_the_named_ones(full_cpu):
    """SGD; SGD with momentum 0.9; Nesterov (momentum 0.9); AdaGrad; RMSProp; Adam; AdamW at
    torch.optim.AdamW's own weight decay."""
    fake, _ = full_cpu
    adamw_wd = inspect.signature(torch.optim.AdamW).parameters["weight_decay"].default
    want = {
        "SGD": {"name": "sgd"},
        "momentum 0.9": {"name": "sgd", "momentum": 0.9},
        "Nesterov 0.9": {"name": "sgd", "momentum": 0.9, "nesterov": True},
        "AdaGrad": {"name": "adagrad"},
        "RMSProp": {"name": "rmsprop"},
        "Adam": {"name": "adam"},
        "AdamW": {"name": "adamw", "weight_decay": adamw_wd},
    }
    for o, cfg in want.items():
        assert fake.raw(f"MLP-{o}")["optim"] == cfg, o


def test_full_mode_on_cpu_plan_seeds_epochs_and_grids(full_cpu):
    """Full: MLP and the default CNN, 7 optimizers on 5-point grids × 5 seeds for 15 epochs; on
    the CPU the CNN runs SGD, momentum and Adam only. The claim "adaptive methods have a wider
    range of good LRs" is judged only when the compared grids have the same size and span, so
    the full grids of Adam/RMSProp and SGD/momentum must match (and the adaptive grids hold the
    default 1e-3 that the "work near 1e-3" claim needs)."""
    fake, out = full_cpu
    mlp = [r["name"] for r in fake.raws if r["name"].startswith("MLP-")]
    cnn = [r["name"] for r in fake.raws if r["name"].startswith("CNN-")]
    assert len(mlp) == 7
    assert cnn == ["CNN-SGD", "CNN-momentum 0.9", "CNN-Adam"]
    for r in fake.raws:
        assert r["population"]["seeds"] == [0, 1, 2, 3, 4]
        assert r["train"]["epochs"] == 15
    assert fake.raw("CNN-Adam")["model"] == {"name": "convnet"}
    grids = {o: fake.raw(f"MLP-{o}")["population"]["grid"]["optim.lr"] for o in opt.OPTIMIZERS}
    assert all(len(g) == 5 for g in grids.values())
    compared = ("Adam", "RMSProp", "SGD", "momentum 0.9")
    shapes = {(len(g), round(math.log10(max(g) / min(g)), 2)) for g in map(grids.get, compared)}
    assert len(shapes) == 1, grids
    for o in ("Adam", "RMSProp", "AdamW"):
        assert 1e-3 in grids[o]
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["models"] == {"MLP": list(opt.OPTIMIZERS),
                                         "CNN": ["SGD", "momentum 0.9", "Adam"]}  # fmt: skip
    assert res["settings"]["seeds"] == 5 and res["settings"]["epochs"] == 15
    assert fake.demo_calls == [(5, opt.FULL_DEMO_STEPS)]


def test_full_mode_on_a_gpu_runs_every_optimizer_on_the_cnn(tmp_path, monkeypatch):
    fake = Fake(monkeypatch)
    opt.run(tmp_path / "g", quick=False, device="cuda")
    cnn = [r["name"] for r in fake.raws if r["name"].startswith("CNN-")]
    assert cnn == [f"CNN-{o}" for o in opt.OPTIMIZERS]


def test_schedules_quick(quick):
    """Step ×0.1 at 50% and 75% of the epochs (8 -> 4 and 6), cosine, constant (none); SGD with
    momentum 0.9 on the MLP; base LRs b/3, b, 3b, 10b with b = momentum's best LR (lowest mean
    final validation loss: index 2 of the grid)."""
    fake, out = quick
    mom = fake.raw("MLP-momentum 0.9")
    b = mom["population"]["grid"]["optim.lr"][2]
    assert fake.raw("schedule-constant")["schedule"] == {"name": "none"}
    assert fake.raw("schedule-step ×0.1")["schedule"] == {
        "name": "multistep", "milestones": [4, 6], "gamma": 0.1}  # fmt: skip
    assert fake.raw("schedule-cosine")["schedule"] == {"name": "cosine"}
    for n in ("constant", "step ×0.1", "cosine"):
        r = fake.raw(f"schedule-{n}")
        assert r["model"] == {"name": "mlp", "hidden": [100, 100]}
        assert r["optim"] == {"name": "sgd", "momentum": 0.9}
        assert r["train"] == {"epochs": 8, "batch_size": 100}
        got = r["population"]["grid"]["optim.lr"]
        assert got == pytest.approx([b / 3, b, 3 * b, 10 * b], rel=2e-3)
    assert "step ×0.1 at epochs 4 and 6" in _text(out)


def test_schedule_milestones_full_are_half_and_three_quarters(full_cpu):
    fake, out = full_cpu
    assert fake.raw("schedule-step ×0.1")["schedule"]["milestones"] == [15 // 2, 45 // 4]
    assert "Nothing: this is the full study." not in _text(out)  # (the CNN ran 3 of 7)


def test_seeds_below_one_are_refused_by_run_itself(tmp_path, monkeypatch):
    Fake(monkeypatch)
    with pytest.raises(UserError, match="at least 1"):
        opt.run(tmp_path / "z", quick=True, seeds=0, device="cpu")
    assert not (tmp_path / "z").exists()


# -- best LR, tables, results.json -----------------------------------------------------------------
def _table(out, title_start):
    t = [s for s in _sections(out) if s["kind"] == "table" and s["title"].startswith(title_start)]
    assert len(t) == 1
    return [dict(zip(t[0]["columns"], r, strict=True)) for r in t[0]["rows"]]


def test_best_lr_is_the_lowest_mean_val_loss_and_numbers_are_its_seeds(quick):
    fake, out = quick
    res = json.loads((out / "results.json").read_text())
    rows = {r["optimizer"]: r for r in res["table"]}
    for o in ("SGD", "momentum 0.9", "Adam"):
        lrs = fake.raw(f"MLP-{o}")["population"]["grid"]["optim.lr"]
        row = rows[o]
        assert row["best lr"] == lrs[2]  # VAL's minimum (TRAIN's is index 1)
        assert row["best lr at grid edge"] == "no (inside the grid)"
        want = {k: [_final(4, 2, s, "")[k] for s in (0, 1)]
                for k in ("test_acc", "test_loss", "train_loss")}  # fmt: skip
        for k, vals in want.items():
            assert row[k]["values"] == pytest.approx(vals), (o, k)
            assert row[k]["mean"] == pytest.approx(np.mean(vals))
            assert row[k]["std"] == pytest.approx(np.std(vals, ddof=1))
        acc = want["test_acc"]
        assert row["test acc"].startswith(f"{np.mean(acc):.3f} ± {np.std(acc, ddof=1):.3f}")
        # mean val losses 1.505, 1.205, 1.005, 1.305: only 1.005 is within 10% of the best
        assert row["LRs within 10% of best val loss"] == "1/4"
        for i, (lr, v) in enumerate(zip(lrs, row["val_loss_by_lr"], strict=True)):
            assert v["lr"] == lr and v["values"] == pytest.approx([VAL[4][i], VAL[4][i] + 0.01])


def test_good_lr_count_full_grid(full_cpu):
    # mean val losses over seeds 0-4: 1.52, 1.22, 1.02, 1.07, 1.32; 1.1 × 1.02 = 1.122
    _, out = full_cpu
    rows = _table(out, "Best LR per optimizer")
    assert {r["LRs within 10% of best val loss"] for r in rows} == {"2/5"}


def test_schedule_best_base_lr_is_the_lowest_mean_final_training_loss(quick):
    fake, out = quick
    res = json.loads((out / "results.json").read_text())
    b = fake.raw("schedule-constant")["population"]["grid"]["optim.lr"]
    rows = {r["schedule"]: r for r in res["schedules"]}
    assert list(rows) == ["constant", "step ×0.1", "cosine"]
    for n, r in rows.items():
        assert r["best base lr"] == b[1]  # TRAIN's minimum (VAL's is index 2)
        vals = [_final(4, 1, s, f"schedule-{n}")["train_loss"] for s in (0, 1)]
        assert r["train_loss"]["values"] == pytest.approx(vals)
        m, sd = np.mean(vals), np.std(vals, ddof=1)
        assert r["final train loss"].startswith(f"{m:.4f} ± {sd:.4f} ")
        acc = [_final(4, 1, s, f"schedule-{n}")["test_acc"] for s in (0, 1)]
        assert r["test_acc"]["values"] == pytest.approx(acc)
        assert r["test acc"].startswith(f"{np.mean(acc):.3f} ± {np.std(acc, ddof=1):.3f}")


def test_lbfgs_table_gives_final_and_lowest_full_batch_loss(quick):
    _, out = quick
    rows = {r["method"]: r for r in json.loads((out / "results.json").read_text())["lbfgs"]}
    assert list(rows) == ["L-BFGS, full batch", "L-BFGS, batch 64", "SGD, batch 64"]
    for method, final in (("L-BFGS, full batch", 0.1), ("L-BFGS, batch 64", 0.5),
                          ("SGD, batch 64", 0.7)):  # fmt: skip
        assert rows[method]["final_loss"]["values"] == [final, final]
        assert rows[method]["lowest_loss"]["values"] == [final, final]
        assert rows[method]["final full-batch loss"].startswith(f"{final:.4f} ± 0.0000")


def test_settings_in_results_json_quick(quick):
    fake, out = quick
    s = json.loads((out / "results.json").read_text())["settings"]
    assert s["mode"] == "quick" and s["seeds"] == 2 and s["epochs"] == 8
    assert s["models"] == {"MLP": ["SGD", "momentum 0.9", "Adam"]}
    assert s["lr_grids"] == {o: fake.raw(f"MLP-{o}")["population"]["grid"]["optim.lr"]
                             for o in ("SGD", "momentum 0.9", "Adam")}  # fmt: skip
    assert s["schedule_base_lrs"] == fake.raw("schedule-cosine")["population"]["grid"]["optim.lr"]


# -- figures --------------------------------------------------------------------------------------
def test_lr_sensitivity_figure_is_mean_val_loss_with_std_bars_on_a_log_lr_axis(quick):
    fake, _ = quick
    ax = fake.figures["lr_sensitivity_mlp"].axes[0]
    assert ax.get_xscale() == "log"
    assert len(ax.containers) == 3
    for o, cont in zip(("SGD", "momentum 0.9", "Adam"), ax.containers, strict=True):
        lrs = fake.raw(f"MLP-{o}")["population"]["grid"]["optim.lr"]
        line, _, bars = cont.lines
        assert cont.has_yerr and bars
        np.testing.assert_allclose(np.asarray(line.get_xdata(), float), lrs)
        means = [np.mean([VAL[4][i], VAL[4][i] + 0.01]) for i in range(4)]
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), means)
        segs = bars[0].get_segments()  # mean ± std (0.0071 here) within the seeds' range
        ends = [sorted((s[0][1], s[1][1])) for s in segs]
        np.testing.assert_allclose(ends, [[v, v + 0.01] for v in VAL[4]])


def test_lr_sensitivity_figure_has_no_point_where_a_seed_diverged(tmp_path, monkeypatch):
    """Caption: an LR at which any seed's run diverged has no point."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    fake = Fake(monkeypatch, nan_at=("MLP-SGD", 3, 1))
    opt.run(tmp_path / "n", quick=True, device="cpu")
    ax = fake.figures["lr_sensitivity_mlp"].axes[0]
    line = ax.containers[0].lines[0]
    lrs = fake.raw("MLP-SGD")["population"]["grid"]["optim.lr"]
    np.testing.assert_allclose(np.asarray(line.get_xdata(), float), lrs[:3])
    means = [np.mean([VAL[4][i], VAL[4][i] + 0.01]) for i in range(3)]
    np.testing.assert_allclose(np.asarray(line.get_ydata(), float), means)


def _band(collection):
    """(x, low, high) of a fill_between polygon."""
    v = collection.get_paths()[0].vertices
    pts = {}
    for x, y in v:
        pts.setdefault(round(float(x), 9), set()).add(round(float(y), 9))
    xs = sorted(pts)
    return xs, [min(pts[x]) for x in xs], [max(pts[x]) for x in xs]


def _curves_drawn(ax):
    """The axis's curves, less the dashed copies drawn over those lying on one another."""
    from trainlab.report.plots import DASHED_GID

    return [line for line in ax.lines if line.get_gid() != DASHED_GID]


def test_best_lr_curves_are_the_best_lr_seeds_mean_with_a_one_std_band_within_them(quick):
    fake, _ = quick
    ax = fake.figures["best_curves_mlp"].axes[0]
    assert ax.get_yscale() == "log"
    lines = _curves_drawn(ax)
    assert len(lines) == 3 and len(ax.collections) == 3
    for line, band in zip(lines, ax.collections, strict=True):
        per_seed = np.array([[_curve(_final(4, 2, s, "")["train_loss"], e, 8, s)
                              for e in range(1, 9)] for s in (0, 1)])  # fmt: skip
        mu, sd = per_seed.mean(0), per_seed.std(0, ddof=1)
        np.testing.assert_allclose(line.get_xdata(), range(1, 9))
        np.testing.assert_allclose(line.get_ydata(), mu)
        xs, lo, hi = _band(band)
        np.testing.assert_allclose(xs, range(1, 9))
        # mean ± std within the seeds' min..max (cells.curve_band)
        np.testing.assert_allclose(lo, np.maximum(mu - sd, per_seed.min(0)), atol=1e-8)
        np.testing.assert_allclose(hi, np.minimum(mu + sd, per_seed.max(0)), atol=1e-8)


def test_schedule_curves_at_each_best_base_lr(quick):
    fake, _ = quick
    ax = fake.figures["schedules"].axes[0]
    assert ax.get_yscale() == "log"
    for n, line, band in zip(("constant", "step ×0.1", "cosine"), _curves_drawn(ax),
                             ax.collections, strict=True):  # fmt: skip
        per_seed = np.array([[_curve(_final(4, 1, s, f"schedule-{n}")["train_loss"], e, 8, s)
                              for e in range(1, 9)] for s in (0, 1)])  # fmt: skip
        mu, sd = per_seed.mean(0), per_seed.std(0, ddof=1)
        np.testing.assert_allclose(line.get_ydata(), mu)
        _, lo, hi = _band(band)
        np.testing.assert_allclose(lo, np.maximum(mu - sd, per_seed.min(0)), atol=1e-8)
        np.testing.assert_allclose(hi, np.minimum(mu + sd, per_seed.max(0)), atol=1e-8)


# -- small helpers, by hand ------------------------------------------------------------------------
def _models(seed_vals):
    """{seed: [val loss per LR]} -> a cell over lrs 0.1, 0.3, 1.0 (train loss: 7, 1, 9)."""
    lrs = [0.1, 0.3, 1.0]
    models = []
    for s, vals in seed_vals.items():
        for lr, v, t in zip(lrs, vals, [7.0, 1.0, 9.0], strict=True):
            models.append({"index": len(models), "seed": s, "overrides": {"optim.lr": lr},
                           "status": "ok", "final": {"val_loss": v, "train_loss": t}})  # fmt: skip
    return {"cell": {"summary": {"models": models}, "metrics": []}, "lrs": lrs}


def test_per_seed_widths_counts_within_10_percent_of_each_seeds_own_best():
    # seed 0: best 1.0, 1.1 is exactly 10% above (within), 1.2 not: 2
    # seed 1: best 2.0 (its own), 2.15 within, 3.0 not: 2; seed 2: best 1.0, 1.15 within 1.2: 1
    r = _models({0: [1.0, 1.1, 1.2], 1: [3.0, 2.15, 2.0], 2: [1.0, 1.15, 5.0]})
    assert opt._per_seed_widths(r) == [2.0, 2.0, 1.0]


def test_within_counts_finite_losses_and_none_when_all_diverged():
    assert opt._within([1.0, 1.1, 1.11, math.inf]) == 2
    assert opt._within([math.inf, math.nan]) == 0
    assert opt._within([]) == 0


def test_span_is_log10_of_the_lr_ratio():
    assert opt._span({"lrs": [1e-4, 3e-4, 1e-2]}) == pytest.approx(2.0)


def test_ms_formats_mean_and_sample_std_and_counts_diverged_seeds():
    assert opt._ms([1.0, 2.0]) == f"1.5000 ± {math.sqrt(0.5):.4f}"
    assert opt._ms([1.0, 2.0, math.inf]) == f"1.5000 ± {math.sqrt(0.5):.4f} (1 of 3 seeds diverged)"
    assert opt._ms([0.7]) == "0.7000"
    assert opt._ms([0.7, math.inf]) == "0.7000 (1 of 2 seeds diverged)"
    assert opt._ms([math.inf, math.nan]) == "— (all 2 seeds diverged)"
    assert opt._ms([0.5, 0.6], pct=True) == f"55.0% ± {np.std([50, 60], ddof=1):.1f}%"


def test_ms_acc_counts_only_nan_stopped_seeds_as_diverged():
    ok = {"status": "ok", "final": {"test_acc": 0.8}}
    early = {"status": "early_stopped", "final": {"test_acc": 0.6}}
    assert opt._ms_acc([ok, early]) == f"70.0% ± {np.std([80, 60], ddof=1):.1f}%"


def test_stats_over_finite_values_with_none_for_diverged():
    s = opt._stats([1.0, math.inf, 3.0])
    assert s["values"] == [1.0, None, 3.0]
    assert s["n"] == 2 and s["mean"] == pytest.approx(2.0)
    assert s["std"] == pytest.approx(math.sqrt(2.0))
    assert s["ci95"] == pytest.approx(sps.t.ppf(0.975, 1) * math.sqrt(2.0) / math.sqrt(2))


def test_left_out_is_empty_for_the_full_study_and_names_fewer_seeds_and_epochs():
    plan = {"MLP": list(opt.OPTIMIZERS), "CNN": list(opt.OPTIMIZERS)}
    assert opt._left_out(plan, opt.OPTIMIZERS, 5, 15, opt.FULL_DEMO_STEPS) == []
    assert opt._left_out(plan, opt.OPTIMIZERS, 7, 20, opt.FULL_DEMO_STEPS) == []
    out = opt._left_out(plan, opt.OPTIMIZERS, 4, 14, opt.FULL_DEMO_STEPS)
    assert "4 seeds instead of 5" in out and "14 epochs instead of 15" in out


# -- the L-BFGS demonstration against a hand-built torch reference ---------------------------------
def _reference_demo(n_seeds, steps, batch=64, l2=1e-3, sgd_lr=0.1, history=10):
    """Per model, softmax regression on standardized digits with torch.optim.LBFGS / SGD; model
    s: generator seeded s draws 0.01·N(0,1) weights, then one mini-batch per step."""
    from trainlab import data as data_mod

    ds = data_mod.load("digits", preprocess="standardize")
    x = ds.x_train.flatten(1).to(torch.float64)
    y = ds.y_train
    n, d = x.shape
    c = ds.num_classes

    def loss(w, b, xb, yb):
        return torch.nn.functional.cross_entropy(xb @ w.T + b, yb) + l2 * (w**2).sum()

    out = {}
    for method in ("L-BFGS, full batch", f"L-BFGS, batch {batch}", f"SGD, batch {batch}"):
        curves = []
        for s in range(n_seeds):
            g = torch.Generator().manual_seed(s)
            w = (torch.randn(c, d, generator=g, dtype=torch.float64) * 0.01).requires_grad_()
            b = torch.zeros(c, dtype=torch.float64, requires_grad=True)
            if method.startswith("SGD"):
                o = torch.optim.SGD([w, b], lr=sgd_lr)
            else:
                o = torch.optim.LBFGS([w, b], max_iter=1, history_size=history)

            def closure(o=o, w=w, b=b, g=g, full=method.endswith("full batch")):
                o.zero_grad()
                if full:
                    lv = loss(w, b, x, y)
                else:
                    idx = torch.randint(0, n, (batch,), generator=g)
                    lv = loss(w, b, x[idx], y[idx])
                lv.backward()
                return lv

            curve = []
            for _ in range(steps):
                if method.startswith("SGD"):
                    closure()
                    o.step()
                else:
                    o.step(closure)
                with torch.no_grad():
                    curve.append(float(loss(w, b, x, y)))
            curves.append(curve)
        out[method] = curves
    return out


def test_lbfgs_demo_matches_a_per_model_torch_reference():
    got = opt.lbfgs_batch_demo(2, 8)  # (8 steps: more than a short L-BFGS history would keep)
    want = _reference_demo(2, 8)
    assert list(got) == list(want)
    for method in want:
        np.testing.assert_allclose(got[method], want[method], rtol=1e-7, err_msg=method)
