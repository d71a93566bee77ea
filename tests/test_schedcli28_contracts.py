"""Review of `trainlab schedule` / lr-find with per-model schedule values (schedcli28)."""

from __future__ import annotations

import pytest
import torch

from trainlab.config import parse_config, schedule_kwargs
from trainlab.errors import ConfigError
from trainlab.optim import create_schedule


def _config(schedule, variants):
    return parse_config(
        {
            "name": "t",
            "model": {"name": "mlp", "hidden": [8]},
            "optim": {"name": "sgd", "lr": 0.1},
            "schedule": schedule,
            "train": {"epochs": 4, "batch_size": 512},
            "population": {"seeds": [0], "variants": variants},
        }
    )


# Population variants where one model sets schedule.warmup_steps: 1 and the other keeps the
# default (0) are refused by _Params.count with "got [1] (per model)": the KEEP_DEFAULT entries
# are filtered out of the shown value, so the message names a single value 1 (a one-element
# "list") and hides that the other model has 0 — which is exactly why it is refused. The message
# should name the default the other models keep (as schedule_kwargs's "cannot vary per model ...
# and the default" does for other keys).
def test_warmup_steps_partial_variants_message_names_the_default():
    cfg = _config(
        {"name": "step", "step_size": 1}, [{"schedule.warmup_steps": 1}, {"optim.lr": 0.2}]
    )
    with pytest.raises(ConfigError) as err:
        kw = schedule_kwargs(cfg)
        create_schedule(
            "step",
            torch.tensor([0.1, 0.2], dtype=torch.float64),
            total_steps=12,
            steps_per_epoch=3,
            **kw,
        )
    msg = str(err.value)
    assert "got [1] (per model)" not in msg
    assert "default" in msg or " 0" in msg, msg


# A variant that sets schedule.interval to 'epoch' (the default) next to one that leaves it out:
# every model's interval is 'epoch', nothing varies per model, yet schedule_kwargs refuses it
# with "schedule.interval cannot vary per model (the models give 'epoch' and the default)"
# (it compares with KEEP_DEFAULT, not with the default's value). The models share one
# interval, so the config must be accepted with interval 'epoch' and the step curve of each
# model: lr · 0.1^epoch.
def test_interval_equal_to_default_in_some_variants_is_not_per_model():
    cfg = _config(
        {"name": "step", "step_size": 1}, [{"schedule.interval": "epoch"}, {"optim.lr": 0.2}]
    )
    kw = schedule_kwargs(cfg)
    sched = create_schedule(
        "step",
        torch.tensor([0.1, 0.2], dtype=torch.float64),
        total_steps=12,
        steps_per_epoch=3,
        **kw,
    )
    assert sched.resolved["interval"] == "epoch"
    expected = (
        torch.tensor([[0.1, 0.2]], dtype=torch.float64)
        * 0.1 ** (torch.arange(12, dtype=torch.float64) // 3)[:, None]
    )
    assert torch.allclose(sched.curve(), expected)
