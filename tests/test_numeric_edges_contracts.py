"""Adversarial review: numeric edge cases in training (train.py, optim/*)."""

from __future__ import annotations

import copy

import numpy as np
import torch
from tests.conftest import small_config
from torch import nn

from trainlab.pretrain import arrays_dataset
from trainlab.train import train


def test_adam_tiny_eps_matches_torch_when_second_moment_is_denormal():
    """Contract: the trainer's flush-denormal mode is documented (``_flush_denormals``) as
    "values below 1.2e-38 become 0; nothing else changes", and K=1 must equal a hand-written
    torch loop. With Adam ``eps=1e-30`` (a setting the optimizer accepts) and gradients near
    1e-18 (inputs in small physical units), Adam's second moment ``0.001·g²`` is a denormal: torch
    keeps it and takes a step of ~lr, but the trainer flushes it to 0 so the step becomes
    ``lr·m/eps`` ~ 1e10, making the weights explode. A user who sets a tiny eps gets a completely
    different (diverged) model than torch.optim.Adam gives."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 4)) * 1e-18).astype(np.float32)
    y = rng.integers(0, 3, 64)
    ds = arrays_dataset(x, y, x[:8], y[:8], val_fraction=0.0, num_classes=3)
    model = nn.Linear(4, 3)
    ref = copy.deepcopy(model)
    cfg = small_config(
        init={"scheme": "keep"},
        optim={"name": "adam", "lr": 0.01, "eps": 1e-30},
        train={"epochs": 3, "batch_size": 1000},
    )
    res = train(cfg, device="cpu", model=model, dataset=ds, progress=False, write=False)
    got = res.model(0).weight.detach()

    opt = torch.optim.Adam(ref.parameters(), lr=0.01, eps=1e-30)
    xt, yt = ds.x_train, ds.y_train
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(ref(xt), yt).backward()
        opt.step()
    want = ref.weight.detach()
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-4), (got, want)


def test_adam_eps_1e16_matches_torch_when_the_bias_corrected_moment_was_denormal():
    """The flush-denormal rule must count Adam's bias correction: ``v = 0.001·g²`` is flushed
    below 1.2e-38, but torch's ``√(v / 0.001)`` of it reaches ~3.4e-18, which is 3% of
    ``eps = 1e-16``. With gradients ~3e-18 the trainer must not flush then, and its first steps
    must equal ``torch.optim.Adam``'s (it differed by ~3.5% when only eps < 1e-16 was kept
    unflushed)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 4)) * 1e-17).astype(np.float32)
    y = rng.integers(0, 3, 64)
    ds = arrays_dataset(x, y, x[:8], y[:8], val_fraction=0.0, num_classes=3)
    model = nn.Linear(4, 3)
    ref = copy.deepcopy(model)
    w0 = model.weight.detach().clone()
    cfg = small_config(
        init={"scheme": "keep"},
        optim={"name": "adam", "lr": 0.01, "eps": 1e-16},
        train={"epochs": 2, "batch_size": 1000},
    )
    res = train(cfg, device="cpu", model=model, dataset=ds, progress=False, write=False)
    got = res.model(0).weight.detach() - w0

    opt = torch.optim.Adam(ref.parameters(), lr=0.01, eps=1e-16)
    for _ in range(2):
        opt.zero_grad()
        nn.functional.cross_entropy(ref(ds.x_train), ds.y_train).backward()
        opt.step()
    want = ref.weight.detach() - w0
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-9), (got, want)
