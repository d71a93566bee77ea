"""Review of f2bc52f..HEAD: verdicts when every seed agrees, a loop population's Python state,
and the refusal of a reassigned buffer."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import trainlab.population as population
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.studies.evidence import CONFIRMED, NO_SPREAD
from trainlab.studies.optimizers import _all_of, _claims, _compare


def test_all_of_keeps_the_no_spread_verdict():
    # Wrong: comparisons not judged for a zero spread (identical LR-width counts) are summed up
    # as "inconclusive (within seed noise)". Right: the claim is not judged (NO_SPREAD).
    assert _all_of([NO_SPREAD, NO_SPREAD]) == NO_SPREAD


def test_identical_seeds_of_an_inexact_mean_are_not_judged():
    # Wrong: three seeds at 70% each have a float std of 1e-16 (the mean rounds to 0.69999...),
    # so se != 0 and the claim is 'confirmed' at a bound of ±0.00 points (21 of k/100 values).
    # Right: every seed agrees exactly, so NO_SPREAD (test for equal values, not se == 0).
    verdict, text = _compare([0.7] * 3, [0.6] * 3, pct=True)
    assert verdict == NO_SPREAD, text


def test_baseline_reached_with_identical_seeds_is_confirmed():
    # Wrong: 75% on every seed against the paper's 68% is 'not judged'; the claim's own rule
    # ("at or above it ... only a shortfall beyond the noise contradicts") makes it confirmed.
    def mods(vals, key):
        return [{"final": {"test_acc": 0.75, key: v}} for v in vals]

    results = {
        ("MLP", "Adam"): {"mods": mods([0.75] * 3, "test_acc"), "best": 1e-2, "edge": False,
                          "lrs": [1e-2], "val": {1e-2: [1.0] * 3},
                          "cell": {"metrics": [{"step": 6000}]}},  # (the paper's 6000 steps)
    }  # fmt: skip
    sched = {
        n: {"mods": mods([0.5, 0.6, 0.7], "train_loss"), "best": 0.1, "edge": False}
        for n in ("constant", "step ×0.1", "cosine")
    }
    demo = {"L-BFGS, full batch": [[1.0, 0.5]], "L-BFGS, batch 32": [[1.0, 0.9]]}
    rows = _claims(results, sched, demo, plan={"MLP": ["Adam"]}, quick=False, epochs=5)
    row = next(r for r in rows if r["claim"].startswith("MLP test accuracy"))
    assert row["verdict"] == CONFIRMED, row


class _LazyScale(nn.Module):
    """Data-dependent init on the first call, its flag created then (an ActNorm-style layer)."""

    def __init__(self, read_item: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("scale", torch.zeros(()))
        self.read_item = read_item

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not hasattr(self, "ready"):
            self.scale.copy_(x.std())
            self.ready = True
        y = self.fc(x) * self.scale
        if self.read_item and y.sum().item() > 1e9:  # (vmap cannot batch it: the loop runs)
            y = y * 0
        return y


def _x() -> torch.Tensor:
    return torch.randn(3, 8, 3) * torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)


def test_loop_population_undoes_an_attribute_the_forward_creates():
    # Wrong: only the attributes present before the forward are restored between models, so a
    # flag created by model 0's forward skips models 1..K-1's init (scales [s, 0, 0]; vmap
    # inits all three). Right: each model starts from the same Python state.
    pop = Population(_LazyScale(), 3)
    pop.mode = "loop"
    pop(_x())
    assert bool((pop.net.get_buffer("scale") != 0).all()), pop.net.get_buffer("scale")


def test_failed_vmap_attempt_undoes_an_attribute_it_created():
    # Wrong: the failed vmap attempt sets `ready`, its buffers are restored but the flag is not,
    # so the loop initializes no model (scales [0, 0, 0]). Right: undo the attempt's attributes.
    pop = Population(_LazyScale(read_item=True), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop(_x())
    assert pop.mode == "loop"
    assert bool((pop.net.get_buffer("scale") != 0).all()), pop.net.get_buffer("scale")


class _MeanInto1(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("mu", torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.mu = x.mean()  # () into a (1,) buffer
        return self.fc(x)


def test_moved_buffer_message_names_the_models_shapes_under_vmap():
    # Wrong: under vmap the refusal quotes the stacked shapes, "as (3,) ... (it was (3, 1))",
    # which reads as a 3-vector; the loop says "as () ... (it was (1,))". Right: per-model shapes.
    pop = Population(_MeanInto1(), 3)
    assert pop.mode == "vmap"
    with pytest.raises(UserError, match=r"as \(\) .*it was \(1,\)"):
        pop(torch.randn(3, 4, 3))


class _Plain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def test_vmap_forward_does_not_walk_the_python_state_every_step(monkeypatch):
    # Wrong: every vmap forward walks every module's __dict__ (~4% of a 30-layer CPU forward),
    # though the snapshot is used only to undo a failed first call. Right: take it when first.
    calls = []
    real = population._python_state
    monkeypatch.setattr(population, "_python_state", lambda m: calls.append(1) or real(m))
    pop = Population(_Plain(), 3)
    assert pop.mode == "vmap"
    for _ in range(3):
        pop(torch.randn(3, 4, 3))
    assert len(calls) <= 1, len(calls)
