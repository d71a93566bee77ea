"""Review findings (studypt35): the studies pretraining / clipping / preprocessing."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainlab.studies.cells import cpu_threads, train_cell


def _seed0_losses(seeds: list[int], lrs: list[float], out: Path) -> list[float]:
    raw = {
        "name": "k",
        "data": {"name": "digits", "preprocess": "none"},
        "model": {"name": "mlp", "hidden": []},
        "optim": {"name": "adam"},
        "train": {"epochs": 1, "batch_size": 32},
        "population": {"seeds": seeds, "grid": {"optim.lr": lrs}},
    }
    with cpu_threads("cpu"):  # one thread, as the studies train
        cell = train_cell(raw, out, "cpu")
    (idx,) = [
        m["index"]
        for m in cell["summary"]["models"]
        if m["seed"] == 0 and m["overrides"]["optim.lr"] == 1.0
    ]
    return [r["train_loss"] for r in cell["metrics"] if r["model"] == idx]


# `trainlab study preprocessing --quick --seeds 1` vs `--seeds 2`: the seed-0 models of every
# Adam cell at lr 1.0 end with different final training losses (e.g. linear raw Adam lr 1:
# 0.2933 vs 0.3044), while every SGD model and every Adam model at lr <= 0.3 is bit-identical.
# Reduced: a linear softmax classifier on digits, Adam lr 1.0, seed 0, one epoch: its epoch-1
# training loss changes with which other models share the population (seeds [0] vs [0, 1]).
# Each model's data order and init come from its own seed, and a population promises models
# that do not depend on K or on their neighbours, so a model's numbers must be bit-identical.
# Cause: on the CPU, Adam's default fused path (optim/base.py _fused_plan -> torch._fused_adam_
# on the stacked (K, ...) tensors) rounds differently in the kernel's vectorised body and its
# scalar tail, so an element's result depends on its position, i.e. on K (checked: a 10-element
# tensor stepped alone vs repeated twice differs in 1 element at lr 1.0). With fused=False (the
# _foreach path) the two runs agree bit for bit (2.3808804591988117 both times).
@pytest.mark.xfail(
    strict=True,
    reason="known limitation, documented in the README's population engine section: torch's "
    "fused CPU kernels round a tensor's vectorized body and its tail differently, so a model's "
    "last bits depend on its slot (stepping per-model views instead costs K x P views per step)",
)
def test_adam_high_lr_model_does_not_depend_on_other_seeds(tmp_path: Path) -> None:
    alone = _seed0_losses([0], [1.0], tmp_path / "a")
    with_seed1 = _seed0_losses([0, 1], [1.0], tmp_path / "b")
    assert alone == with_seed1
