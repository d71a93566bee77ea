"""Review lrsched21: lr-find, lr_sweep and schedules (each test failed on the code reviewed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trainlab.config import Config
from trainlab.errors import ConfigError
from trainlab.optim.lr_find import lr_sweep


def _cfg(**optim) -> Config:
    return Config.model_validate(
        {
            "name": "lrsched21",
            "data": {"name": "digits"},
            "model": {"name": "mlp", "hidden": [8]},
            "optim": {"name": "adam", "lr": 1e-3, **optim},
            "train": {"epochs": 1, "batch_size": 256},
            "population": {"seeds": [0]},
        }
    )


def test_lr_sweep_huge_neighbour_lr_does_not_kill_a_sane_model():
    # lr-scaled fused CPU step computes θ₀ − η_max·u for every model; η_max ≥ ~1e38 overflows
    # float32 and lerp with w≈0 turns the lr-1e-3 model into NaN: it must keep its solo result
    alone = lr_sweep(_cfg(), [1e-3], device="cpu")
    pair = lr_sweep(_cfg(), [1e-3, 1e40], device="cpu")
    assert math.isfinite(pair.train_loss[0])
    assert pair.train_loss[0] == pytest.approx(alone.train_loss[0], rel=1e-5)
    assert pair.diverged == [1e40]


def test_lr_sweep_accepts_numpy_integer_epochs():
    # epochs=np.int64(1) is refused as "needs epochs (--epochs) ≥ 1, got np.int64(1)" (lr_find
    # takes np.integer num_steps); a whole number ≥ 1 of any integer type must be accepted
    try:
        res = lr_sweep(_cfg(), [1e-3], epochs=np.int64(1), device="cpu")
    except ConfigError as err:
        pytest.fail(f"np.int64(1) epochs refused: {err}")
    assert len(res.train_loss) == 1
