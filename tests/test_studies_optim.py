"""Optimizer studies: the 2-D study's claims and quick runs of each study."""

from __future__ import annotations

import json
import math

import pytest
import torch

from trainlab.studies import optimizers_2d as o2d


def test_newton_one_step_on_quadratic_and_stuck_on_saddle():
    quad, saddle = o2d.FUNCTIONS["quadratic"], o2d.FUNCTIONS["saddle"]
    path = o2d.trajectories(quad, "newton", {}, [1.0], 3)
    assert o2d.steps_to_tolerance(quad, path, 1e-12) == [1]
    path = o2d.trajectories(saddle, "newton", {}, [1.0], 20)
    assert path[-1, 0].abs().max() < 1e-6  # converged to the saddle (0, 0), not a minimum
    assert o2d.steps_to_tolerance(saddle, path, 1e-4) == [None]


def test_sgd_slower_than_momentum_on_ill_conditioned_quadratic():
    quad = o2d.FUNCTIONS["quadratic"]
    lrs = [0.01, 0.03, 0.1]
    sgd = o2d.steps_to_tolerance(quad, o2d.trajectories(quad, "sgd", {}, lrs, 1500), 1e-4)
    mom = o2d.steps_to_tolerance(
        quad, o2d.trajectories(quad, "sgd", {"momentum": 0.9}, lrs, 1500), 1e-4
    )
    best_sgd = min(s for s in sgd if s is not None)
    best_mom = min(s for s in mom if s is not None)
    assert best_mom * 3 < best_sgd  # ~√κ = 10× fewer in theory


def test_steps_to_tolerance_counts_the_first_lasting_entry():
    quad = o2d.FUNCTIONS["quadratic"]
    path = torch.tensor([[[-8.0, 1.0]], [[0.0, 0.0]], [[1.0, 1.0]], [[0.0, 0.0]]],
                        dtype=torch.float64)  # fmt: skip
    assert o2d.steps_to_tolerance(quad, path, 1e-3, lasting=True) == [3]
    assert o2d.steps_to_tolerance(quad, path, 1e-3) == [1]  # first hit


def test_quick_study_writes_report(tmp_path, monkeypatch):
    monkeypatch.setattr(o2d, "QUICK_STEPS", 60)
    threads, seen = torch.get_num_threads(), set()
    original = o2d.trajectories

    def traced(*args, **kwargs):
        seen.add(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(o2d, "trajectories", traced)
    out = o2d.run(tmp_path / "o2d", quick=True)
    # tiny (K, 2) tensors run on one thread (10x faster on a shared CPU), restored afterwards
    assert seen == {1} and torch.get_num_threads() == threads
    assert (out / "report.html").is_file()
    assert (out / "figures" / "trajectories_rosenbrock.png").is_file()
    res = json.loads((out / "results.json").read_text())
    newton_quad = [r for r in res if r["function"] == "quadratic" and r["optimizer"] == "Newton"]
    assert newton_quad[0]["steps"] == 1
    with pytest.raises(Exception, match="already exists"):
        o2d.run(out, quick=True)


def test_optimizers_2d_faster_verdict_and_grid_edges():
    def r(steps, edge=""):
        return {"steps": steps, "lr": 0.1, "edge": edge, "final_gap": 0.5}

    res = {("f", "A"): r(10), ("f", "B"): r(20), ("f", "C"): r(None), ("f", "D"): r(None),
           ("f", "E"): r(20, edge="largest LR of the grid")}  # fmt: skip
    assert o2d._faster(res, "f", "A", "B", 100)[0] == "confirmed"
    assert o2d._faster(res, "f", "B", "A", 100)[0] == "contradicted"
    assert o2d._faster(res, "f", "A", "C", 100)[0] == "confirmed"
    assert o2d._faster(res, "f", "C", "A", 100)[0] == "not reached (C)"
    assert o2d._faster(res, "f", "C", "D", 100)[0].startswith("not reached (neither")
    # the slower one's best LR on its grid's edge: another LR might change the order
    v = o2d._faster(res, "f", "A", "E", 100)[0]
    assert v.startswith("inconclusive (not tuned") and "measured: confirmed" in v
    # the faster one on the edge only gets faster with a better LR: the order stands
    assert o2d._faster(res, "f", "E", "C", 100)[0] == "confirmed"
    from trainlab.studies.cells import grid_edge

    assert grid_edge(o2d.OPTIMIZERS["SGD"][2], 0.9) == "largest LR of the grid"


def test_optimizers_2d_report_states_results_against_the_expectation(tmp_path, monkeypatch):
    monkeypatch.setattr(o2d, "QUICK_STEPS", 150)
    out = o2d.run(tmp_path / "o2d", quick=True)
    assert not (out / "checkpoints").exists()
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    tables = {s["title"]: s for s in sections if s["kind"] == "table"}
    claims = tables["Expected (literature) vs measured"]
    rows = {(r[0], r[1]): dict(zip(claims["columns"], r, strict=True)) for r in claims["rows"]}
    # the saddle, escape = halfway down from the saddle's value: Adam leaves in 1 step, SGD in
    # 21 (lr 0.9, the top of its grid: not tuned, so inconclusive); Nesterov needs 23 (slower)
    escape = "escapes faster than SGD (fewer steps to come halfway down)"
    adam = rows[("saddle", f"Adam {escape}")]
    assert (
        adam["verdict"].startswith("inconclusive (not tuned")
        and "measured: confirmed" in (adam["verdict"])
    )
    assert "Adam halfway down in 1 step (" in adam["measured"]
    assert rows[("saddle", f"Nesterov 0.9 {escape}")]["verdict"] == "contradicted"
    newton = rows[("saddle", "Newton is attracted to the saddle, never reaches a minimum")]
    assert newton["verdict"] == "confirmed"
    # Beale: Newton stops at the stationary point (0, 1), far from the minimum (3, 0.5)
    beale = rows[("beale", "Newton fastest in steps (fewer than every first-order method)")]
    assert beale["verdict"] == "not reached (Newton)"
    assert "(0, 1)" in beale["measured"] and "stationary point" in beale["measured"]
    assert rows[("quadratic", "Newton reaches the minimum in one step")]["verdict"] == "confirmed"
    # straightness is judged at the straightest LR that arrives, not the fastest (which
    # overshoots): RMSProp lr 0.1 (83 steps) 1.04, its fastest lr 0.3 (15 steps) 1.38
    straight = next(v for k, v in rows.items() if k[1].startswith("RMSProp goes nearly straight"))
    assert straight["verdict"] == "confirmed"
    assert (
        "1.04 at lr 0.1" in straight["measured"] and "1.38 at its fastest" in straight["measured"]
    )
    text = "\n".join(s["text"] for s in sections if s["kind"] == "text")
    assert "**Not as expected**" in text and "saddle: Nesterov 0.9 escapes faster" in text
    rosen = next(line for line in text.splitlines() if line.startswith("- Rosenbrock"))
    missed = rosen.split("**Never reached the tolerance**")[1]
    assert all(o in missed for o in ("Nesterov 0.9", "AdaGrad", "RMSProp"))
    steps_table = next(s for t, s in tables.items() if t.startswith("Steps to reach"))
    sgd = dict(zip(steps_table["columns"], steps_table["rows"][0], strict=True))
    assert sgd["saddle"] == "23 (lr 0.9, grid edge)"
    res = json.loads((out / "results.json").read_text())
    sgd_saddle = next(r for r in res if r.get("optimizer") == "SGD" and r["function"] == "saddle")
    assert sgd_saddle["edge"] == "largest LR of the grid" and sgd_saddle["steps"] == 23
    zigzag = {r["optimizer"]: r for r in res if r["function"] == "zigzag_quadratic"}
    assert set(zigzag) == set(o2d.ZIGZAG_RUNS) and zigzag["SGD"]["sign_changes"] == 80


def test_optimizers_2d_path_ratio():
    """Path length over the straight distance: an L of legs 3 and 4 is 7/5; a loop is inf."""
    ell = torch.tensor([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0]], dtype=torch.float64)
    assert o2d._path_ratio(ell) == pytest.approx(1.4)
    assert o2d._path_ratio(torch.cat([ell, ell[:1]])) == math.inf


def test_optimizers_2d_zigzag_caption_is_measured():
    quad = o2d.FUNCTIONS["quadratic"]
    sgd = o2d.zigzag_stats(o2d.trajectories(quad, "sgd", {}, [0.18], 80)[:, 0])
    mom = o2d.zigzag_stats(o2d.trajectories(quad, "sgd", {"momentum": 0.9}, [0.02], 80)[:, 0])
    newton = o2d.zigzag_stats(o2d.trajectories(quad, "newton", {}, [1.0], 80)[:, 0])
    assert sgd["sign_changes"] == 80  # 1 − 0.18·10 = −0.8: y flips at every step
    assert 0 < mom["sign_changes"] < 80 and mom["max_abs_y_after_10"] > 0.1  # it oscillates
    assert newton["sign_changes"] == 0
    _, stats, caption = o2d._zigzag()
    assert "does not zig-zag" not in caption
    assert f"momentum 0.9 (lr 0.02) oscillates across y ({mom['sign_changes']} sign" in caption
    assert "SGD (lr 0.18) flips the sign of y at every step" in caption
    assert stats["momentum 0.9"] == mom


# -- optimizers study: what ran, grid edges, noise tests, results.json ---------------------------
def _fake_optimizer(per_lr):
    """An optimizers-study summary from ``{lr: [(val_loss, train_loss, test_acc) per seed]}``."""
    from trainlab.studies import optimizers as opt

    models = [
        {"index": i, "seed": s, "overrides": {"optim.lr": lr}, "status": "ok",
         "final": {"val_loss": v, "train_loss": t, "test_acc": a}}
        for i, (lr, s, (v, t, a)) in enumerate(
            (lr, s, vals) for lr, seeds in per_lr.items() for s, vals in enumerate(seeds)
        )
    ]  # fmt: skip
    return opt.summarize({"summary": {"models": models}, "metrics": []}, list(per_lr))


def _claim(rows, start):
    hits = [r for r in rows if r["claim"].startswith(start)]
    assert len(hits) == 1, (start, [r["claim"] for r in rows])
    return hits[0]


def test_optimizers_grid_edge_and_tuned_comparison_verdicts():
    from trainlab.studies import optimizers as opt

    assert opt.grid_edge([0.1, 0.3, 1.0], 1.0) == "largest LR of the grid"
    assert opt.grid_edge([0.1, 0.3, 1.0], 0.1) == "smallest LR of the grid"
    assert opt.grid_edge([0.1, 0.3, 1.0], 0.3) == ""
    assert opt.grid_edge([0.1], 0.1)  # one LR brackets nothing
    # momentum clearly better than Adam on test accuracy, both best LRs inside their grids
    mom = _fake_optimizer({0.01: [(1.5, 1.4, 0.5)] * 2, 0.03: [(1.0, 0.9, 0.70), (1.0, 0.9, 0.71)],
                           0.1: [(1.4, 1.3, 0.5)] * 2})  # fmt: skip
    adam = _fake_optimizer({1e-3: [(1.5, 1.4, 0.5)] * 2, 3e-3: [(1.1, 1.0, 0.60), (1.1, 1.0, 0.61)],
                            0.01: [(1.4, 1.3, 0.5)] * 2})  # fmt: skip
    sched = {n: {"mods": mom["mods"], "best": 0.03, "edge": ""}
             for n in ("constant", "step ×0.1", "cosine")}  # fmt: skip
    demo = {"L-BFGS, full batch": [[0.1], [0.1]], "L-BFGS, batch 64": [[0.3], [0.31]]}
    plan = {"MLP": ["momentum 0.9", "Adam"]}
    kw = {"plan": plan, "quick": False, "epochs": 3}
    rows = opt._claims({("MLP", "momentum 0.9"): mom, ("MLP", "Adam"): adam}, sched, demo, **kw)
    assert _claim(rows, "tuned SGD+momentum vs Adam, test accuracy (MLP)")["verdict"] == "confirmed"
    # the same numbers with Adam's best LR at the top of its grid: not a tuned comparison
    adam_edge = _fake_optimizer({1e-3: [(1.5, 1.4, 0.5)] * 2, 3e-3: [(1.3, 1.2, 0.5)] * 2,
                                 0.01: [(1.1, 1.0, 0.60), (1.1, 1.0, 0.61)]})  # fmt: skip
    assert adam_edge["edge"] == "largest LR of the grid"
    rows = opt._claims(
        {("MLP", "momentum 0.9"): mom, ("MLP", "Adam"): adam_edge}, sched, demo, **kw
    )
    verdict = _claim(rows, "tuned SGD+momentum vs Adam, test accuracy (MLP)")["verdict"]
    assert verdict.startswith("inconclusive (not tuned") and "Adam (MLP)" in verdict
    sgd_row = _claim(rows, "plain SGD slowest: highest final training loss (MLP)")
    assert sgd_row["verdict"].startswith("not tested in this run")  # SGD was not run
    # every claim of the expectation has a row; the CNN's are marked as not run
    for start in ("MLP test accuracy", "AdaGrad's steps shrink", "step ×0.1 decay vs constant",
                  "cosine decay vs constant", "L-BFGS works"):  # fmt: skip
        assert _claim(rows, start)["verdict"]
    for model in ("MLP", "CNN"):
        for start in ("Adam/RMSProp good over a wider LR range", "Adam/RMSProp work near the "
                      "default", "tuned SGD+momentum vs Adam", "plain SGD slowest"):  # fmt: skip
            assert [r for r in rows if r["claim"].startswith(start) and f"({model})" in r["claim"]]
    for r in rows:
        if "CNN" in r["claim"]:
            assert r["verdict"] == "not tested in this run (the CNN is not trained)"


def test_optimizers_decay_verdict_is_a_welch_test_not_a_comparison_of_means():
    from trainlab.studies import optimizers as opt

    def sched_cell(losses, edge=""):
        mods = [{"status": "ok", "final": {"train_loss": v, "test_acc": 0.5}} for v in losses]
        return {"mods": mods, "best": 0.1, "edge": edge}

    demo = {"L-BFGS, full batch": [[0.1], [0.1]], "L-BFGS, batch 64": [[0.3], [0.31]]}
    sched = {"constant": sched_cell([1.0, 1.01]), "step ×0.1": sched_cell([0.6, 1.3]),
             "cosine": sched_cell([0.50, 0.51])}  # fmt: skip
    rows = opt._claims({}, sched, demo, plan={}, quick=True, epochs=2)
    # step: mean 0.95 < 1.005, but the seeds disagree far more than that (dof ≈ 1, t = 12.7)
    step = _claim(rows, "step ×0.1 decay vs constant")
    assert step["verdict"] == "inconclusive (within seed noise)" and "Welch" in step["measured"]
    assert _claim(rows, "cosine decay vs constant")["verdict"] == "confirmed"
    lbfgs = _claim(rows, "L-BFGS works full batch")
    assert lbfgs["verdict"] == "confirmed"  # full batch agrees exactly: no noise at all
    sched["cosine"] = sched_cell([0.50, 0.51], edge="largest LR of the grid")
    rows = opt._claims({}, sched, demo, plan={}, quick=True, epochs=2)
    assert _claim(rows, "cosine decay vs constant")["verdict"].startswith("inconclusive (not tuned")
    # one seed: no noise estimate, nothing is judged
    one = {n: sched_cell([v]) for n, v in (("constant", 1.0), ("step ×0.1", 0.5), ("cosine", 0.4))}
    rows = opt._claims({}, one, demo, plan={}, quick=True, epochs=2)
    assert _claim(rows, "cosine decay vs constant")["verdict"].startswith("not judged")


def test_optimizers_quick_report_says_what_ran_and_flags_grid_edges(tmp_path, monkeypatch):
    from trainlab.studies import optimizers as opt

    monkeypatch.setattr(opt, "QUICK_EPOCHS", 1)
    monkeypatch.setattr(opt, "QUICK_DEMO_STEPS", 5)
    # LRs far too small to train in one epoch: every best LR is the largest of its grid
    tiny = {"SGD": [1e-5, 1e-4], "momentum 0.9": [1e-6, 1e-5], "Adam": [1e-7, 1e-6]}
    monkeypatch.setattr(opt, "QUICK_OPTIMIZERS", tiny)
    out = opt.run(tmp_path / "o", quick=True, seeds=2, device="cpu")
    assert not (out / "checkpoints").exists()  # no empty training-run folder
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    text = "\n".join(s["text"] for s in sections if s["kind"] == "text")
    ran, left = text.split("### Left out in quick mode")
    assert "**quick**" in ran and "MLP 40-100-100-10" in ran
    for absent in ("CNN", "convnet", "Nesterov", "AdaGrad", "RMSProp", "AdamW", "7 optimizers"):
        assert absent not in ran.split("## What the literature expects")[0]
    assert "1-D CNN" in left and "Nesterov 0.9, AdaGrad, RMSProp, AdamW not run" in left
    assert "1 epoch instead of 15" in left and "2 seeds instead of 5" in left
    assert "Best LR at the edge of its grid" in text
    tables = {s["title"]: s for s in sections if s["kind"] == "table"}
    best = tables["Best LR per optimizer (by mean final validation loss)"]
    col = best["columns"].index("best lr at grid edge")
    assert all(r[col] == "largest LR of the grid" for r in best["rows"])
    claims = tables["Expected (literature) vs measured"]
    rows = [dict(zip(claims["columns"], r, strict=True)) for r in claims["rows"]]
    wilson = _claim(rows, "tuned SGD+momentum vs Adam, test accuracy (MLP)")
    assert wilson["verdict"].startswith("inconclusive (not tuned")
    assert _claim(rows, "CNN test accuracy")["verdict"].startswith("not tested in quick mode")
    assert _claim(rows, "MLP test accuracy")["verdict"].startswith("not tested in quick mode")
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["mode"] == "quick" and res["settings"]["lr_grids"] == tiny
    row = res["table"][0]
    assert isinstance(row["test acc"], str) and row["test_acc"]["n"] == 2
    assert row["test_acc"]["mean"] == pytest.approx(sum(row["test_acc"]["values"]) / 2)
    assert {"mean", "std", "n"} <= set(res["schedules"][0]["train_loss"])
    assert {"mean", "std", "n"} <= set(res["lbfgs"][0]["final_loss"])


@pytest.mark.parametrize("study", ["optimizers", "optimizers-2d", "clipping"])
@pytest.mark.parametrize("seeds", [0, -1])
def test_optimizer_studies_reject_nonpositive_seeds(study, seeds, tmp_path):
    from trainlab.errors import UserError
    from trainlab.studies import run_study

    with pytest.raises(UserError, match="seeds must be at least 1"):
        run_study(study, tmp_path / "new", quick=True, seeds=seeds, device="cpu")
    assert not (tmp_path / "new").exists()


# -- LR finder ------------------------------------------------------------------------------------
def _digits_config(**over):
    from trainlab.config import parse_config

    raw = {
        "optim": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
        "model": {"name": "mlp", "hidden": [32]},
        "train": {"epochs": 1, "batch_size": 64},
    }
    raw.update(over)
    return parse_config(raw)


def test_smooth_is_debiased_and_suggest_finds_the_steepest_drop():
    from trainlab.optim.lr_find import smooth, suggest

    assert smooth([2.0] * 5) == pytest.approx([2.0] * 5)
    lrs = [10 ** (-5 + 5 * i / 99) for i in range(100)]
    # loss falls fastest (in log10 lr) at 1e-2, then blows up after 1e-1
    loss = [2 - torch.sigmoid(torch.tensor(3.0 * (math.log10(x) + 2))).item()
            + (max(0.0, math.log10(x) + 1) ** 2) * 10 for x in lrs]  # fmt: skip
    sug = suggest(lrs, loss)
    assert abs(math.log10(sug["steep"]) + 2) < 0.1
    i_min = min(range(100), key=lambda i: loss[i])
    assert sug["min/10"] == pytest.approx(lrs[i_min] / 10)


def test_lr_find_on_digits_stops_when_loss_explodes(tmp_path):
    from trainlab.optim.lr_find import lr_find

    cfg = _digits_config()
    before = cfg.model_dump()
    res = lr_find(cfg, start_lr=1e-4, end_lr=100.0, num_steps=40, check_every=5, device="cpu")
    assert cfg.model_dump() == before  # the config is untouched
    assert len(res.lrs) == 40 and len(res.losses) == 1
    assert len(res.losses[0]) < 40  # stopped before the end: the loss exploded
    assert "best" in res.stop_reasons[0] or "NaN" in res.stop_reasons[0]
    assert 1e-3 < res.suggestion < 10
    res.plot().savefig(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 1000


def test_lr_sweep_population_variant():
    from trainlab.optim.lr_find import lr_sweep

    res = lr_sweep(_digits_config(), [1e-4, 0.03, 30.0], epochs=1, device="cpu")
    assert len(res.val_loss) == 3
    assert res.best_lr == 0.03  # a tiny LR barely moves; a huge one diverges


def test_cli_schedule_and_lr_find(tmp_path):
    from typer.testing import CliRunner

    from trainlab.cli import app

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "optim: {name: sgd, lr: 0.1}\nschedule: {name: step, step_size: 1, gamma: 0.5}\n"
        "train: {epochs: 3}\npopulation: {variants: [{optim.lr: 0.1}, {optim.lr: 0.2}]}\n"
    )
    runner = CliRunner()
    png = tmp_path / "s.png"
    r = runner.invoke(app, ["schedule", str(cfg), "--plot", "--out", str(png)])
    assert r.exit_code == 0, r.output
    assert png.is_file() and "0.05" in r.output and "0.025" in r.output
    r = runner.invoke(app, ["lr-find", str(cfg), "--start-lr", "1", "--end-lr", "0.1"])
    assert r.exit_code != 0
    assert "start_lr < end_lr" in str(r.exception) + r.output


# -- the trainer-based studies, shrunk (their real quick runs: tests/test_studies_quick.py) ----
def test_clipping_prevents_divergence(tmp_path, monkeypatch):
    from trainlab.studies import clipping

    monkeypatch.setattr(clipping, "QUICK_EPOCHS", 1)
    monkeypatch.setattr(clipping, "LRS", [0.1])
    clipping.run(tmp_path / "c", quick=True, seeds=2, device="cpu")
    res = json.loads((tmp_path / "c" / "results.json").read_text())
    by = {r["clipping"]: r for r in res["rows"]}
    assert by["no clipping"]["NaN models"] == "2/2"  # lr 0.1, large init: diverges
    assert by["clip norm 1"]["NaN models"] == "0/2"  # clipped per model: trains
    verdicts = {c["claim"].split(":")[0]: c["verdict"] for c in res["claims"]}
    assert verdicts["ReLU, large init, LR ≥ 0.01"] == "confirmed"
    assert verdicts["…and clip norm 1 prevents it (ReLU, LR ≥ 0.01)"] == "confirmed"


def test_clipping_intro_states_the_init_scale_it_uses():
    """The text's ratio to He's σ and per-layer gain follow from the constants (it once said
    2.7× He's σ for 0.3 vs √(2/64) = 0.177, which is 1.7×)."""
    import re

    from trainlab.studies import clipping

    he = math.sqrt(2 / clipping.WIDTH)
    for text in (clipping.intro_text(), clipping.__doc__):
        ratio = float(re.search(r"— (\d+\.\d)× He's σ", text)[1])
        assert ratio == pytest.approx(clipping.INIT_STD / he, abs=0.05)
        gain = float(re.search(r"n·σ²/2 = (\d+\.\d)", text)[1])
        assert gain == pytest.approx(clipping.WIDTH * clipping.INIT_STD**2 / 2, abs=0.05)


def _clip_row(act, lr, clip, n_nan, accs):
    return {"activation": act, "lr": lr, "clipping": clip, "n_nan": n_nan,
            "n_models": n_nan + len(accs), "test_acc": accs}  # fmt: skip


def test_clipping_verdicts_are_computed_from_the_measurements(monkeypatch):
    from trainlab.studies import clipping

    monkeypatch.setattr(clipping, "LRS", [1e-3, 0.1])
    assert clipping.divergence_verdict(3, 3, expect_nan=True) == "confirmed"
    assert clipping.divergence_verdict(0, 3, expect_nan=True) == "contradicted"
    assert clipping.divergence_verdict(1, 3, expect_nan=True).startswith("partly")
    assert clipping.divergence_verdict(0, 3, expect_nan=False) == "confirmed"
    # nothing diverges, and clipping does *not* slow training: every claim against it
    rows = [
        _clip_row("relu", 1e-3, "no clipping", 0, [0.50, 0.52, 0.51]),
        _clip_row("relu", 1e-3, "clip norm 1", 0, [0.90, 0.91, 0.92]),
        _clip_row("relu", 0.1, "no clipping", 0, [0.8, 0.8, 0.8]),
        _clip_row("relu", 0.1, "clip norm 1", 0, [0.8, 0.8, 0.8]),
    ]
    claims = clipping._claims(rows, ["relu"], ["no clipping", "clip norm 1"], quick=True)
    by = {c["claim"]: c for c in claims}
    assert by["ReLU, large init, LR ≥ 0.01: unclipped runs diverge"]["verdict"] == "contradicted"
    assert (
        "0 of 3 models NaN" in by["ReLU, large init, LR ≥ 0.01: unclipped runs diverge"]["measured"]
    )
    assert by["…and clip norm 1 prevents it (ReLU, LR ≥ 0.01)"]["verdict"].startswith("not tested")
    slow = by["small LR (0.001): norm clipping slows training (ReLU)"]
    assert slow["verdict"] == "contradicted" and "95% bound" in slow["measured"]
    assert by["…and clip value 0.1 prevents it (ReLU, LR ≥ 0.01)"]["verdict"].startswith(
        "not tested in quick mode"
    )
    # clipping slows training, but within seed noise with two noisy seeds: inconclusive
    rows[0]["test_acc"], rows[1]["test_acc"] = [0.9, 0.5], [0.6, 0.5]
    claims = clipping._claims(rows, ["relu"], ["no clipping", "clip norm 1"], quick=True)
    slow = next(c for c in claims if c["claim"].startswith("small LR"))
    assert slow["verdict"].startswith("inconclusive")


# -- preprocessing study --------------------------------------------------------------------------
def test_preprocessing_rejects_nonpositive_seeds(tmp_path):
    from trainlab.errors import UserError
    from trainlab.studies import preprocessing

    for bad in (0, -2):
        with pytest.raises(UserError, match="seeds must be at least 1"):
            preprocessing.run(tmp_path / f"p{bad}", quick=True, seeds=bad, device="cpu")
        assert not (tmp_path / f"p{bad}").exists()


def test_preprocessing_noise_test_is_student_t_with_welch_dof():
    from trainlab.studies.preprocessing import lower_than

    # the review's case: raw 0.1672 ± 0.0274 vs mean-subtracted 0.0638 ± 0.0002, 2 seeds each.
    # The old 2-standard-error rule said "yes"; with ~1 degree of freedom t is 12.7: noise.
    verdict, detail = lower_than([0.0637, 0.0639], [0.1478, 0.1866])
    assert verdict == "inconclusive (within seed noise)", detail
    assert "dof" in detail
    assert lower_than([0.0638], [0.1672])[0].startswith("not judged")  # one seed: no noise
    five_low, five_high = [0.060, 0.062, 0.064, 0.061, 0.063], [0.15, 0.16, 0.17, 0.18, 0.16]
    assert lower_than(five_low, five_high)[0] == "confirmed"
    assert lower_than(five_high, five_low)[0] == "contradicted"
    assert lower_than([math.inf, 0.06], [0.2, 0.3])[0].startswith("not judged")  # a NaN run


def test_preprocessing_adam_sensitivity_claim_has_a_noise_test():
    from trainlab.studies.preprocessing import less_sensitive

    # ratios raw/standardized: SGD ×3, Adam ×2 — but the seeds scatter by a factor of ~2
    verdict, r_sgd, r_adam, _ = less_sensitive(
        ([0.1, 0.4], [0.05, 0.1]), ([0.05, 0.2], [0.04, 0.06])
    )
    assert r_sgd > r_adam and verdict == "inconclusive (within seed noise)"
    tight = ([0.30, 0.31, 0.29], [0.10, 0.101, 0.099]), ([0.10, 0.101, 0.099], [0.10, 0.1, 0.1])
    verdict, r_sgd, r_adam, _ = less_sensitive(*tight)
    assert verdict == "confirmed" and r_sgd == pytest.approx(3.0, rel=0.02)
    assert less_sensitive(([0.3], [0.1]), ([0.1], [0.1]))[0].startswith("not judged")


def test_preprocessing_quick_mode_includes_pca_whitening_and_wide_grids():
    from trainlab.studies import preprocessing as pp

    assert {"raw (all ≥ 0)", "mean-subtracted", "standardized", "PCA-whitened"} <= set(
        pp.QUICK_PREPROCESSING
    )
    for name, lrs in pp.QUICK_OPTIMS.items():
        assert len(lrs) >= 5 and lrs[-1] / lrs[0] >= 100, name


def test_preprocessing_flags_grid_edges_and_says_what_ran(tmp_path, monkeypatch):
    from trainlab.studies import preprocessing as pp

    monkeypatch.setattr(pp, "QUICK_EPOCHS", 1)
    monkeypatch.setattr(pp, "QUICK_MODELS", ("linear",))
    monkeypatch.setattr(pp, "QUICK_PREPROCESSING", ("raw (all ≥ 0)", "mean-subtracted"))
    # LRs far below every optimum: the best LR is the top of each grid
    monkeypatch.setattr(pp, "QUICK_OPTIMS", {"SGD": [1e-4, 3e-4], "Adam": [1e-6, 3e-6]})
    out = pp.run(tmp_path / "p", quick=True, seeds=2, device="cpu")
    res = json.loads((out / "results.json").read_text())
    assert len(res["rows"]) == 4
    for row in res["rows"]:
        assert row["best lr"] == (3e-4 if row["optimizer"] == "SGD" else 3e-6)
        assert row["best LR bracketed"].startswith("NO")
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    text = "\n".join(s["text"] for s in sections if s["kind"] == "text")
    assert "4 of 4 best LRs" in text and "not bracketed" in text
    ran, left_out = text.split("Quick mode leaves out")
    assert "linear" in ran and "MLP" not in ran and "PCA" not in ran and "ZCA" not in ran
    for missing in ("MLP", "standardized", "PCA-whitened", "ZCA-whitened", "SGD 0.1"):
        assert missing in left_out, missing
    claims = {c["claim"]: c for c in res["claims"]}
    zero = claims["linear, SGD: zero-centering speeds convergence"]
    assert "grid edge" in zero["verdict"]
    std = claims["linear, SGD: standardizing helps further"]
    assert std["verdict"] == "not tested in this mode"
    signs = {r["inputs"]: r for r in res["gradient_signs"]}  # the mechanism, per input run
    assert signs.keys() == {"raw (all ≥ 0)", "mean-subtracted"}
    assert signs["raw (all ≥ 0)"]["per_example"] == 1.0 > signs["mean-subtracted"]["per_example"]


def test_lbfgs_demo_seeds_are_independent_runs():
    """Model s's curve depends only on seed s (its own init and mini-batches), not on K."""
    from trainlab.studies import optimizers as opt

    two, one = opt.lbfgs_batch_demo(2, 4), opt.lbfgs_batch_demo(1, 4)
    for method, curves in one.items():
        assert two[method][0] == pytest.approx(curves[0], rel=1e-9), method
    full = two["L-BFGS, full batch"]
    assert full[0][0] != full[1][0]  # different seeds, different initial weights


def test_lbfgs_claim_is_judged_per_model_not_by_a_mean():
    """Mini-batch L-BFGS fails erratically (one seed 0.3, another 40): a mean over two seeds
    has no power, but no mini-batch run reached the optimum while every full-batch run did."""
    from trainlab.studies import optimizers as opt

    mini, full = "L-BFGS, batch 64", "L-BFGS, full batch"
    claim = opt._lbfgs_claim({full: [[1.0, 0.1], [1.0, 0.1]], mini: [[1.0, 0.3], [1.0, 40.0]]})
    assert claim[3] == "confirmed" and "full batch 2/2 models, batch 64 0/2" in claim[2]
    claim = opt._lbfgs_claim({full: [[1.0, 0.1], [1.0, 0.1]], mini: [[0.2, 0.1], [1.0, 0.5]]})
    assert claim[3].startswith("partly")
    claim = opt._lbfgs_claim({full: [[1.0, 0.5], [1.0, 0.5]], mini: [[1.0, 0.1], [1.0, 0.1]]})
    assert claim[3] == "contradicted"


def test_preprocessing_measures_the_one_sign_gradients_of_all_positive_inputs():
    """The notes' zig-zag mechanism, measured: with raw digits (all inputs >= 0) every
    single-example gradient row of a linear layer has one sign, and some batch rows too; after
    mean subtraction none does."""
    from trainlab.studies.preprocessing import gradient_sign_coherence

    raw = gradient_sign_coherence("none", steps=50)
    centered = gradient_sign_coherence("mean", steps=50)
    assert raw["per_example"] == 1.0 and centered["per_example"] == 0.0
    assert raw["per_batch"] > 0.0 == centered["per_batch"]
