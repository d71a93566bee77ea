"""Mutation-review tests for trainlab.optim (mut36a)."""

from __future__ import annotations

import math

import torch

from trainlab.optim import create_schedule


# Kills schedules.py:_cosine `torch.clamp(t / t_max, max=1.0)` -> `max=1.01` (survived
# tests/test_schedules*.py). Expected values by hand from the documented formula
# "lr = eta_min + (base - eta_min)(1 + cos(pi t / T))/2 for t <= T, then eta_min":
# past t_max the lr must be exactly eta_min (not creeping back up as torch's periodic
# CosineAnnealingLR does), and at t = T/2 it is (base + eta_min)/2.
def test_cosine_holds_eta_min_after_t_max():
    base, eta_min, t_max = 0.2, 0.01, 10
    sched = create_schedule(
        "cosine",
        torch.tensor([base, 0.5], dtype=torch.float64),
        total_steps=40,
        steps_per_epoch=4,
        eta_min=eta_min,
        t_max=t_max,
    )
    half = sched(5)
    assert math.isclose(float(half[0]), (base + eta_min) / 2, rel_tol=0, abs_tol=1e-12)
    for step in (10, 11, 15, 39):
        lr = sched(step)
        assert math.isclose(float(lr[0]), eta_min, rel_tol=0, abs_tol=1e-12), (step, lr)
        assert math.isclose(float(lr[1]), eta_min, rel_tol=0, abs_tol=1e-12), (step, lr)
