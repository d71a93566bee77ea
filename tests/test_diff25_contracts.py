"""Review diff25: today's changes (f582a84..a57c23a), their sibling paths.

Each test fails on the code as reviewed and passes once the defect it names is fixed.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import trainlab.train as T
from trainlab import init
from trainlab.config import parse_config
from trainlab.errors import UserError


def _quiet_train(cfg, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return T.train(cfg, progress=False, **kw)


# init._draw now calls _refuse_too_wide for "uniform"/"xavier_uniform", which computes the bound
# through expected_std -> fans(weight). `fans` refuses a tensor of fewer than 2 dims, so
# init_tensor(torch.empty(5), "uniform", a=0.1) is now "UserError: fans need a weight with at
# least 2 dims" although U(-a, a) needs no fans: init_tensor only asks for fans for the schemes
# in _FAN_SCHEMES, and "normal" on the same tensor still works (as "uniform" did before today).
# Right: the draw torch.nn.init.uniform_(t, -a, a) makes with the same generator ("Draws are
# identical to torch.nn.init for the same generator", README). Fix: for "uniform" the bound is
# `a` (no fans); only xavier_uniform needs expected_std.
def test_init_tensor_uniform_of_a_1d_tensor_still_works():
    got = init.init_tensor(torch.empty(5), "uniform", a=0.1,
                           generator=torch.Generator().manual_seed(3))  # fmt: skip
    want = torch.nn.init.uniform_(torch.empty(5), -0.1, 0.1,
                                  generator=torch.Generator().manual_seed(3))  # fmt: skip
    assert torch.equal(got, want)


# init.apply now refuses a Population (its stacked weights have no per-model fans), but the
# public sibling init.lsuv_ (in __all__) does not: on a stacked population (an MLP: its layers
# are _StackedLinear) it finds no Linear, silently rescales nothing and returns []; on a vmap
# population (a user module) it warns that the layers are "not called by the forward pass ...
# (unused, or their weight used directly, as nn.MultiheadAttention uses out_proj)", which is
# not the reason. Either way every model keeps its scale and LSUV's promise (unit variance per
# layer) is silently not kept. Right: the same UserError as init.apply (initialize each model
# before stacking). Fix: call _refuse_population in lsuv_ too.
def test_lsuv_refuses_a_population_as_apply_does():
    from trainlab import models
    from trainlab.population import Population

    pop = Population(models.create("mlp", input_shape=(8,), num_classes=3, hidden=[16]), 3)
    x = torch.randn(3, 32, 8, generator=torch.Generator().manual_seed(0))
    with pytest.raises(UserError, match="Population"):
        init.lsuv_(pop, x)


# lsuv_'s new "why" blames the parametrization whenever the layer's weight is parametrized:
# "(its weight's parametrization (_WeightNorm) fixes its scale)". weight_norm does not fix the
# scale: writing weight / s through it sets g = ||w|| / s (lsuv_'s docstring: "A parametrized
# weight (weight_norm) is rescaled through its parametrization", and on random data it brings
# the variance to ~1). With an all-zero input the output is the bias alone, for a weight_norm
# layer as for a plain one, and the plain one is told the real reason ("a constant input? the
# bias alone sets it"). Right: the weight_norm layer gets that reason too. Fix: blame the
# parametrization only when the written weight's norm did not change (orthogonal,
# spectral_norm), not for every parametrized weight.
def test_lsuv_does_not_blame_weight_norm_for_a_constant_input():
    from torch.nn.utils.parametrizations import weight_norm

    torch.manual_seed(0)
    lin = weight_norm(torch.nn.Linear(6, 8))
    with torch.no_grad():
        lin.bias.copy_(torch.linspace(-0.3, 0.3, 8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.lsuv_(lin, torch.zeros(16, 6))
    msgs = [str(w.message) for w in caught if "does not change" in str(w.message)]
    assert msgs, [str(w.message) for w in caught]
    assert "WeightNorm" not in msgs[0] and "constant input" in msgs[0], msgs[0]


# optim.base.hyper now takes a numpy array of K values as a per-model hyperparameter (commit
# 5d7bd2e: "was 'must be a number'"), and the README sends users of a per-model lr to
# trainlab.optim.create_schedule; but create_schedule's own per-model parameters still refuse
# one: gamma=np.array([0.5, 0.1]) is "schedule 'step': gamma must be a number, got array(...)",
# while the list [0.5, 0.1] and the tensor work. Right: the same schedule as with the list.
def test_create_schedule_takes_a_numpy_array_per_model_as_the_optimizer_does():
    from trainlab.optim import create_schedule

    base = torch.tensor([0.1, 0.2], dtype=torch.float64)
    kw = dict(total_steps=10, steps_per_epoch=2, step_size=1)
    want = create_schedule("step", base, gamma=[0.5, 0.1], **kw)(3)
    got = create_schedule("step", base, gamma=np.array([0.5, 0.1]), **kw)(3)
    assert torch.equal(got, want)


# datasets bounds num_classes (MAX_CLASSES = 2**31 - 1: "more classes than an output layer can
# hold") for the readers and check_arrays, but Dataset.checked, the check of a hand-built
# Dataset passed to train(cfg, dataset=...), still only asks for >= 2: num_classes=2**62 goes on
# to the model and dies in torch ("RuntimeError: Storage size calculation overflowed"), a raw
# traceback. Right: the one-line UserError (DataError) the other paths give. Fix: bound
# Dataset.num_classes in Dataset.checked as _num_classes_option does.
def test_a_hand_built_dataset_with_too_many_classes_is_a_user_error():
    from trainlab.data.datasets import Dataset

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(60, 6, generator=g), torch.arange(60) % 2
    ds = Dataset("mine", x[:40], y[:40], x[40:50], y[40:50], x[50:], y[50:], (6,), 2**62)
    cfg = {"name": "r", "model": {"name": "mlp", "hidden": [8]},
           "train": {"epochs": 1, "batch_size": 16}, "population": {"seeds": [0]}}  # fmt: skip
    with pytest.raises(UserError, match="num_classes"):
        _quiet_train(cfg, dataset=ds, write=False, device="cpu")


# Commit d4cd005 made a whole number beyond float64 (10**400) in a per-model optimizer value the
# ConfigError it is alone, but the init options and the dropout rate still die with a bare
# "OverflowError: int too large to convert to float": init._check_options catches only
# TypeError/ValueError around float(value) (init.apply(m, "normal", std=10**400), and
# `trainlab train --set init.std=1000...0` is a traceback, exit 1), and models.mlp.check_dropout
# likewise. Right: a UserError naming the option, as optim.base.too_big says it.
def test_a_huge_whole_number_init_option_is_a_user_error():
    with pytest.raises(UserError, match="std"):
        init.apply(torch.nn.Linear(3, 4), "normal", std=10**400)


def test_a_huge_whole_number_dropout_is_a_user_error():
    cfg = {"name": "r", "model": {"name": "mlp", "hidden": [8], "dropout": 10**400},
           "train": {"epochs": 1, "batch_size": 256}, "population": {"seeds": [0]}}  # fmt: skip
    with pytest.raises(UserError, match="dropout"):
        _quiet_train(parse_config(cfg), write=False, device="cpu")


# watch.py promises that which steps are reduced together "depends only on the steps and the
# records() calls, not on where the watch started, so a run resumed at an epoch ... records
# bitwise what the uninterrupted run records", and commit 7458805 says "a resumed run's first
# sampled step records the uninterrupted run's bits". But Watch._stop_deferring turns deferring
# off for good: here (K=2 stacked, hidden 400, batch 200: a full batch's outputs exceed
# DEFER_BYTES; 647 samples: the epoch's last batch of 47 does not; diagnose_every 7: sampled
# steps 0 and 7) the uninterrupted run stops deferring at step 0 and measures step 7 (the last,
# small batch) on the live transposed outputs, while the run resumed at step 4 starts deferring
# afresh, copies step 7 and reduces the contiguous copy at records(): fc1/act1 act_mean and
# act_std of step 7 differ in the last bits although the weights are bitwise equal. Right: equal
# records. Fix: decide per step (a step too big is measured at once, deferring goes on after it),
# so that the watch's state does not depend on where it started.
def test_resumed_diagnostics_equal_uninterrupted_when_the_first_sampled_step_is_small(
    tmp_path, monkeypatch
):
    cfg = {
        "data": {"name": "digits", "test_fraction": 0.6},  # 647 training samples
        "model": {"name": "mlp", "hidden": [400]},
        "optim": {"name": "sgd", "momentum": 0.9},
        "train": {"epochs": 2, "batch_size": 200, "diagnose_every": 7},
        "population": {"seeds": [0, 1]},
    }
    T.train(parse_config(cfg), out=tmp_path / "a", progress=False)
    orig, calls = T.Trainer.train_epoch, {"n": 0}

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # killed as epoch 2 starts (step 4)
            raise KeyboardInterrupt
        return orig(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(T.Trainer, "train_epoch", dying)
        with pytest.raises(KeyboardInterrupt):
            T.train(parse_config(cfg), out=tmp_path / "b", progress=False)
    T.resume(tmp_path / "b", progress=False)

    def rows(d):
        return [json.loads(line) for line in (d / "diagnostics.jsonl").read_text().splitlines()]

    a, b = (torch.load(tmp_path / d / "checkpoints/last.pt", weights_only=True) for d in "ab")
    assert all(v.equal(b["population"][n]) for n, v in a["population"].items())  # bitwise
    ra, rb = rows(tmp_path / "a"), rows(tmp_path / "b")
    assert len(ra) == len(rb)
    differ = sorted(
        {(x["step"], x["layer"], k) for x, y in zip(ra, rb, strict=True) for k in x if x[k] != y[k]}
    )
    assert differ == []


# `trainlab report DIR` of a diagnose run now always rebuilds its verdict and figures from
# diagnostics.jsonl (commit cd585f5), but the Python sibling the README names next to it
# ("`trainlab report runs/lr`, or `trainlab.report.build_report("runs/lr")`, builds it, as the
# CLI does") does not: for a diagnose run written with report=False (or killed before its
# report, or resumed and trained longer, whose sections resume now deletes), build_report
# writes a report without the diagnose sections (the layer-profile and histogram figures), and
# for one whose figure was lost it raises "re-run the study that made it". Right: build_report
# of a diagnose run holds what `trainlab report` writes. Fix: move the is_diagnose_run branch
# from cli.core.report_cmd into build_report (or a function both call).
def test_build_report_of_a_diagnose_run_has_its_diagnose_sections(tmp_path):
    from trainlab.diagnostics.run import diagnose
    from trainlab.report import build_report

    cfg = {"name": "d", "model": {"name": "mlp", "hidden": [16]},
           "train": {"batch_size": 256}, "population": {"seeds": [0]}}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diagnose(parse_config(cfg), out=tmp_path / "d", epochs=1, every=2, device="cpu",
                 progress=False, report=False)  # fmt: skip
        path = build_report(tmp_path / "d")
    assert "update/weight ratio per layer (model 0" in path.read_text()  # diag_profile's caption
