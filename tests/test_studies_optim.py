"""Optimizer studies: the 2-D study's claims and quick runs of each study."""

from __future__ import annotations

import json

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
    assert o2d.steps_to_tolerance(quad, path, 1e-3) == [3]


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
