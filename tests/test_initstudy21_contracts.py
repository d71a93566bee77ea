"""Review (initstudy21) of the ``init`` study's claim logic: diverged models and the one-seed
hedge."""

from __future__ import annotations

import math

import torch

from trainlab.models import create
from trainlab.studies import init_study

_RND = {"weight_diff": 0.5, "output_diff": 2.0, "weight_scale": 0.7, "finite": True}


def _constant_model_symmetry() -> dict:
    """What the study measures on a constant-0.1 model that the trainer stopped for NaN/Inf at
    step 0: the trainer applies no update to a failed model, so its weights are the init."""
    m = create("mlp", input_shape=(4,), num_classes=3, hidden=(8, 8))
    with torch.no_grad():
        for layer in (m.fc1, m.fc2, m.out):
            layer.weight.fill_(0.1)
            layer.bias.zero_()
    sym = init_study.unit_symmetry(m, torch.randn(8, 4, generator=torch.Generator().manual_seed(0)))
    assert sym["finite"] and sym["weight_diff"] == sym["output_diff"] == 0.0  # as measured
    return sym


def _m(scheme: str, status: str, loss: float, acc: float, sym: dict, stopped=None) -> dict:
    return {"scheme": scheme, "status": status, "stopped_step": stopped, "symmetry": sym,
            "final": {"train_loss": loss, "test_acc": acc}}  # fmt: skip


def test_claim_a_does_not_hold_on_symmetric_models_that_diverged_before_any_update() -> None:
    # init_study._claims (a): a zeros/constant model stopped for NaN/Inf at step 0 keeps its
    # (finite, symmetric) init weights, so it counts as "finite" evidence that symmetry survives
    # training (seen: digits depth 30 ReLU, constant 0.1 -> status nan, stopped_step 0, claim
    # "0 over 4 finite models ... holds yes"); a model that never trained is no evidence.
    sym = _constant_model_symmetry()
    models = [_m("constant 0.1", "nan", math.nan, math.nan, sym, stopped=0) for _ in range(3)]
    models += [_m("He", "ok", 0.2, 0.9, _RND) for _ in range(3)]
    cell = {"name": "digits-depth30-relu", "depth": 30, "act": "relu", "models": models}
    (a,) = [c for c in init_study._claims([cell]) if c["claim"].startswith("(a)")]
    assert not a["holds"], a["measured"]


def test_claim_a_text_says_which_symmetric_models_diverged() -> None:
    # init_study._claims (a): diverged (status nan) zeros/constant models are reported as
    # "finite ... after training" with no word that they stopped for NaN/Inf (the "overflowed"
    # note keys on non-finite weights, which the trainer never leaves); the text must say so.
    sym = _constant_model_symmetry()
    models = [_m("zeros", "ok", math.log(10), 0.1, dict(sym, weight_scale=0.0)) for _ in range(2)]
    models += [_m("constant 0.1", "nan", math.nan, math.nan, sym, stopped=0) for _ in range(2)]
    models += [_m("He", "ok", 0.2, 0.9, _RND) for _ in range(2)]
    cell = {"name": "digits-depth30-relu", "depth": 30, "act": "relu", "models": models}
    (a,) = [c for c in init_study._claims([cell]) if c["claim"].startswith("(a)")]
    text = a["measured"].lower()
    assert any(w in text for w in ("nan", "diverg", "stopped", "overflow")), a["measured"]


def test_claim_b_with_three_seeds_each_is_not_labelled_one_seed_when_lsuv_diverged() -> None:
    # init_study._claims: the one-seed hedge counts the *finite* seeds of Xavier, He and LSUV
    # together, so 2 diverged LSUV seeds of 3 make claim (b) (3 Xavier + 3 He seeds, all finite)
    # read "one seed per scheme: not an average over seeds" and "yes (one seed)". It should count
    # the seeds that ran, of the schemes the claim is about.
    models = [_m("Xavier", "ok", math.log(10), 0.1, _RND) for _ in range(3)]
    models += [_m("He", "ok", 0.2, 0.9, _RND) for _ in range(3)]
    models += [_m("LSUV", "ok", 0.1, 0.95, _RND)]
    models += [_m("LSUV", "nan", math.nan, math.nan, _RND, stopped=10) for _ in range(2)]
    cell = {"name": "digits-depth30-relu", "depth": 30, "act": "relu", "models": models}
    (b,) = [c for c in init_study._claims([cell]) if c["claim"].startswith("(b)")]
    assert not b["one_seed"] and "one seed" not in b["measured"], b
