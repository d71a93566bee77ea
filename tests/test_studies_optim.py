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
    out = o2d.run(tmp_path / "o2d", quick=True)
    assert (out / "report.html").is_file()
    assert (out / "figures" / "trajectories_rosenbrock.png").is_file()
    res = json.loads((out / "results.json").read_text())
    newton_quad = [r for r in res if r["function"] == "quadratic" and r["optimizer"] == "Newton"]
    assert newton_quad[0]["steps"] == 1
    with pytest.raises(Exception, match="already exists"):
        o2d.run(out, quick=True)


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


# -- the trainer-based studies, shrunk to one or two epochs -------------------------------------
@pytest.mark.parametrize("name", ["optimizers", "preprocessing", "clipping"])
def test_quick_studies_write_reports(name, tmp_path, monkeypatch):
    import importlib

    mod = importlib.import_module(f"trainlab.studies.{name}")
    monkeypatch.setattr(mod, "QUICK_EPOCHS", 2)
    if hasattr(mod, "QUICK_DEMO_STEPS"):
        monkeypatch.setattr(mod, "QUICK_DEMO_STEPS", 10)
    out = mod.run(tmp_path / name, quick=True, seeds=2, device="cpu")
    assert (out / "report.html").is_file()
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    claims = [s for s in sections if s["kind"] == "table" and "Expected" in s["title"]]
    assert claims and claims[0]["rows"], "each study states expected vs measured"
    assert any(s["kind"] == "figure" for s in sections)


def test_clipping_prevents_divergence(tmp_path, monkeypatch):
    from trainlab.studies import clipping

    monkeypatch.setattr(clipping, "QUICK_EPOCHS", 1)
    monkeypatch.setattr(clipping, "LRS", [0.1])
    clipping.run(tmp_path / "c", quick=True, seeds=2, device="cpu")
    rows = json.loads((tmp_path / "c" / "results.json").read_text())
    by = {r["clipping"]: r for r in rows}
    assert by["no clipping"]["NaN models"] == "2/2"  # lr 0.1, large init: diverges
    assert by["clip norm 1"]["NaN models"] == "0/2"  # clipped per model: trains
