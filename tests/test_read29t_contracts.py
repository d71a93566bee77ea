"""Review read29t: lr_find (the LR range test) and per-model values it replaces."""

from __future__ import annotations

import warnings

import torch

from trainlab.config import parse_config
from trainlab.data.datasets import Dataset
from trainlab.optim.lr_find import lr_find


def _blobs() -> Dataset:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(48) % 3
    x = torch.randn(48, 5, generator=g) + y[:, None].float()
    return Dataset("blobs", x, y, x[:8], y[:8], x[:8], y[:8], (5,), 3)


# lr_find sets every model's LR through Trainer.lr_override, which replaces the schedule
# entirely (_labels' docstring: "schedule values (schedule.<key>) are left out: the range test
# replaces them"). Today's change drops per-model optim.lr, with a warning, because models that
# differ only in what the test replaces "would repeat one curve"; per-model schedule values
# (variants or a grid over schedule.gamma) are the same case but are kept: two models with
# bit-identical curves, labelled 'seed 0 (model 0)' / 'seed 0 (model 1)', and no warning.
# Expected: they are dropped as optim.lr is (one curve), with a warning naming them.
def test_lr_find_drops_per_model_schedule_values_like_per_model_lr():
    cfg = parse_config(
        {
            "optim": {"name": "sgd", "lr": 0.1},
            "model": {"name": "mlp", "hidden": [7]},
            "schedule": {"name": "step", "step_size": 1},
            "train": {"epochs": 3, "batch_size": 16},
            "population": {
                "seeds": [0],
                "variants": [{"schedule.gamma": 0.1}, {"schedule.gamma": 0.5}],
            },
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = lr_find(cfg, start_lr=1e-3, end_lr=1.0, num_steps=6, device="cpu", dataset=_blobs())
    assert len(res.losses) == 1, (res.groups, res.losses)
    assert any("schedule" in str(w.message) for w in caught)
