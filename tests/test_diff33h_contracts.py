"""Review diff33h: the evaluation stop in a killed K=1 run; config.yaml's built options."""

from __future__ import annotations

import math
import warnings

import pytest
import torch.nn as nn

from conftest import Killed, kill_after_checkpoint, small_config
from trainlab.config import load_config, parse_config
from trainlab.report.rundata import read_run
from trainlab.train import train


# Wrong: RunData.model_results (report/rundata.py, the killed-run branch) decides which splits
# a run evaluates from whether any metrics row holds a non-null val/test loss. A K=1 run whose
# only model's evaluation turned non-finite in its first epoch (lr 1e30: step 0's update
# overflows the weights; train loss finite, val/test loss null) has no such row, so
# _eval_failed never fires: killed right after that epoch's checkpoint (which holds the model
# stopped), the report says "incomplete", stopped_step None. The same run with a second,
# healthy model (test_diff33f_contracts) reads "nan" at step 1: the report depends on K.
# Right: status "nan", stopped_step 1, stopped_by "evaluation" (what the trainer recorded in the
# checkpoint, and what resuming it writes to summary.json).
def test_killed_k1_run_report_shows_its_evaluation_stop(tmp_path, monkeypatch):
    cfg = small_config(
        optim={"name": "sgd", "lr": 1e30},
        train={"epochs": 3, "batch_size": 4096, "diagnose_every": 1},
    )
    kill_after_checkpoint(monkeypatch, 1)
    with warnings.catch_warnings(), pytest.raises(Killed):
        warnings.simplefilter("ignore")
        train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    (m,) = read_run(tmp_path / "run").model_results()
    assert (m["status"], m["stopped_step"], m.get("stopped_by")) == ("nan", 1, "evaluation"), m


class _ChanMLP(nn.Module):
    """A registered model with an informational ``channels`` attribute and no such option."""

    def __init__(self, input_shape, num_classes, width: int = 8):
        super().__init__()
        n = math.prod(input_shape)
        self.channels = (n, width)
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(n, width), nn.ReLU(), nn.Linear(width, num_classes)
        )

    def forward(self, x):
        return self.net(x)


# Wrong: Trainer.__init__ (train.py) records any built model's tuple/list ``channels``
# attribute as the option ``model.channels`` whenever the config has none, for every model
# name, not only the convnet whose factory takes it. A registered model with a ``channels``
# attribute and no such option gets ``channels: [64, 8]`` in its config.yaml, and running that
# config.yaml again fails: "model 'chanmlp_diff33h' has no option 'channels'; its options are:
# width". Right: config.yaml holds only options the model's factory takes (the built-channels
# record only where the factory has a ``channels`` parameter), so the run's own config re-runs.
def test_config_yaml_of_a_registered_model_with_a_channels_attribute_runs_again(tmp_path):
    from trainlab.models import _MODELS, register_model

    name = "chanmlp_diff33h"
    register_model(name)(_ChanMLP)
    try:
        cfg = parse_config(
            {
                "name": "t",
                "model": {"name": name},
                "optim": {"name": "sgd", "lr": 0.1},
                "train": {"epochs": 1, "batch_size": 512},
                "population": {"seeds": [0]},
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train(cfg, out=tmp_path / "a", progress=False, device="cpu")
            again = load_config(tmp_path / "a" / "config.yaml")
            assert again.model.kwargs("name").get("channels") is None
            train(again, out=tmp_path / "b", progress=False, device="cpu")
    finally:
        _MODELS._entries.pop(name, None)
