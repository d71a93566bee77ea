"""diff34c review: the source changes of d7ebe4b..HEAD."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import yaml

from conftest import small_config


def _no_split_overflow_config():
    # one step an epoch, neither a val nor a test split; the "step" schedule multiplies the lr
    # by 1e30 after epoch 1, so step 1's update overflows the weights while step 1's own loss
    # and gradient are finite: the trainer stops the model at step 2 by its evaluation on the
    # training split (9b1c81c)
    return small_config(
        optim={"name": "sgd", "lr": 0.05},
        schedule={"name": "step", "step_size": 1, "gamma": 1e30},
        train={"epochs": 2, "batch_size": 4096},
        data={"val_fraction": 0.0, "test_fraction": 0.0},
    )


# Wrong: with_trainer_stops (src/trainlab/diagnostics/run.py) words every evaluation stop as
# "val/test loss NaN/Inf after step S-1's update". Since 9b1c81c a run with neither a val nor a
# test split is stopped by its loss on the *training* split (Trainer._judged_on_train), so
# `trainlab diagnose` of such a run names val/test losses the run does not have. Right: the
# nonfinite finding names the split that was judged (the training split), never "val/test".
def test_diagnose_no_split_evaluation_stop_does_not_name_val_test(tmp_path: Path) -> None:
    from trainlab.diagnostics.run import diagnose

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = diagnose(
            _no_split_overflow_config(),
            out=tmp_path / "run",
            epochs=2,
            every=1,
            device="cpu",
            progress=False,
            report=False,
        )
    (f,) = [f for f in res.findings if f.check == "nonfinite"]
    assert f.status == "fail" and f.step == 2, f
    assert "val/test" not in f.message, f.message
    assert "train" in f.message, f.message


# Wrong: the killed-run replay in RunData.model_results (src/trainlab/report/rundata.py) finds
# an evaluation stop only in a row's val/test losses; with neither split, the trainer's
# evaluation on the training split (9b1c81c) is not recorded in metrics.jsonl, so the same rows
# of a run killed after its last epoch (summary.json not yet written) read "incomplete" with
# finite final numbers, while the trainer stopped the model for NaN/Inf at step 2. Right: as
# for a val/test evaluation stop (test_diff34b_contracts), the replay gives status "nan",
# stopped_by "evaluation" at the same step (record the training-split loss in the row).
def test_killed_no_split_run_report_replays_training_split_stop(tmp_path: Path) -> None:
    from trainlab.report.rundata import read_run
    from trainlab.train import train

    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(_no_split_overflow_config(), out=out, progress=False, device="cpu")
    (finished,) = read_run(out).model_results()
    assert (finished["status"], finished.get("stopped_by")) == ("nan", "evaluation")
    (out / "summary.json").unlink()  # the same rows, as a run killed after its last epoch
    (killed,) = read_run(out).model_results()
    assert killed["status"] == "nan", killed
    assert killed.get("stopped_by") == "evaluation", killed
    assert killed["stopped_step"] == finished["stopped_step"]


# Wrong: init._kept_drawn (src/trainlab/init.py) compares a weight-norm layer's weight with the
# drawn one to a fixed 1e-5 relative; in float16/bfloat16 g * v / ||v|| rounds at ~1e-4/1e-3
# (the dtype's eps), so init.apply on a half-precision weight-norm model warns that the weight
# "is not the drawn one ... remove the parametrization", although weight norm kept it to the
# dtype's rounding (float32/float64 models get no warning). Right: no warning (a tolerance
# scaled to torch.finfo(weight.dtype).eps).
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_init_apply_half_weight_norm_no_spurious_warning(dtype: torch.dtype) -> None:
    from torch.nn.utils import parametrizations

    from trainlab import init

    model = nn.Sequential(parametrizations.weight_norm(nn.Linear(64, 32))).to(dtype)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.apply(model, "he_normal", generator=torch.Generator().manual_seed(0))
    msgs = [str(w.message) for w in caught if "not the drawn one" in str(w.message)]
    assert msgs == []


class _ChanNet(nn.Module):
    """A registered model with a ``channels`` option whose null default the model resolves."""

    def __init__(self, input_shape, num_classes, channels=None):
        super().__init__()
        self.channels = tuple(channels) if channels is not None else (8,)
        n = math.prod(input_shape)
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(n, self.channels[-1]), nn.ReLU(),
            nn.Linear(self.channels[-1], num_classes),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x)


# Wrong: _null_channels_as_built (src/trainlab/train.py) now returns early for any model but
# "convnet", so a null model.channels on one side and the built list on the other is no longer
# dropped for a registered model that takes a channels option (Trainer.built_options records
# its built channels too). An old run of such a model (population.json and config.yaml with
# channels null, as written before the built channels were recorded) whose checkpoint was
# written by a later session (the built [8]) is refused: "last.pt is not this run's checkpoint
# (its model.channels differ ...); ... delete it to restart", advising to throw away a good
# checkpoint; before ea2dc52 it resumed. Right: it resumes (fix: drop the key from both sides,
# as before, where the channels cannot be derived from the input shape).
def test_old_registered_model_run_with_null_channels_resumes(tmp_path: Path) -> None:
    import trainlab
    from trainlab.models import _MODELS, register_model

    name = "channet_diff34c"
    register_model(name)(_ChanNet)
    try:
        run = tmp_path / "run"
        cfg = {
            "name": "t",
            "data": {"name": "digits"},
            "model": {"name": name},
            "train": {"epochs": 1, "batch_size": 512},
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainlab.train(cfg, out=run, device="cpu", progress=False)
        raw = yaml.safe_load((run / "config.yaml").read_text())
        assert raw["model"]["channels"] == [8]
        raw["model"]["channels"] = None  # as an old version wrote it
        raw["train"]["epochs"] = 2
        (run / "config.yaml").write_text(yaml.safe_dump(raw))
        info = json.loads((run / "population.json").read_text())
        info["config"]["model"]["channels"] = None
        (run / "population.json").write_text(json.dumps(info))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = trainlab.resume(run, device="cpu", progress=False)
        assert res.summary["epochs"] == 2
    finally:
        _MODELS._entries.pop(name, None)
