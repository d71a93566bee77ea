"""Review clip21: gradient clipping (trainlab.optim.clip, train.clip_norm/clip_value, clip_frac)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trainlab.config import parse_config
from trainlab.errors import ConfigError
from trainlab.optim import clip_grad_norm_, clip_grad_value_
from trainlab.pretrain import arrays_dataset
from trainlab.train import Trainer


def test_clip_frac_of_an_early_stopped_model_counts_no_frozen_steps():
    # train.py:664 adds every model's clipped flag, frozen (early-stopped) ones too: a stopped
    # model's rows read lr 0 but clip_frac 1.0; it took no step, so none was clipped (0 or null)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    data = arrays_dataset(x, (x[:, 0] > 0).astype("int64"), None, None, val_fraction=0.25)
    cfg = parse_config(
        {
            "name": "c",
            "model": {"name": "mlp", "hidden": [4]},
            "optim": {"name": "sgd", "lr": 0.1},
            "train": {
                "epochs": 3,
                "batch_size": 50,
                "clip_norm": 1e-4,  # every step of every model is clipped while it trains
                "early_stopping_patience": 1,
                "early_stopping_metric": "val_acc",
            },
            "population": {"seeds": [0], "grid": {"optim.lr": [1e-9, 1.0]}},
        }
    )
    t = Trainer(cfg, device="cpu", dataset=data)
    rows = [t.train_epoch() for _ in range(3)]
    assert t.stopped_step[0] is not None and t.stopped_step[0] <= 2 * t.steps_per_epoch
    last = rows[2][0]
    assert last["lr"] == 0.0  # the trainer says model 0 no longer steps
    assert last["clip_frac"] in (0.0, None), last


@pytest.mark.parametrize("norm_type", [True, None, "fro"])
def test_clip_grad_norm_rejects_a_bad_norm_type_like_grad_norms(norm_type):
    # clip.py:118 float(norm_type): True silently clips with the L1 norm, None/'fro' raise a bare
    # TypeError/ValueError; grad_norms refuses the same values with a ConfigError: do so here too
    p = torch.zeros(2, 3, requires_grad=True)
    p.grad = torch.ones(2, 3)
    with pytest.raises(ConfigError, match="norm_type"):
        clip_grad_norm_([p], 1.0, k=2, norm_type=norm_type)


def test_clip_grad_value_flags_a_model_whose_elements_were_clamped_beside_a_nan():
    # clip.py:158 amax over a gradient holding NaN is NaN, so the model whose 5 and inf were
    # clamped to ±1 is reported as not clipped; the docstring promises True for any element beyond
    p = torch.zeros(2, 3, requires_grad=True)
    p.grad = torch.tensor([[math.nan, 5.0, math.inf], [0.1, 0.2, 0.3]])
    clipped = clip_grad_value_([p], 1.0)
    assert p.grad[0, 1].item() == 1.0  # clamping did act on model 0
    assert clipped.tolist() == [True, False]
