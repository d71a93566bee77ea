"""Review evalstop34: the trainer's evaluation stop (stopped_by: evaluation) and its interplay."""

from __future__ import annotations

import warnings

from conftest import small_config
from trainlab.train import train


def _no_split_run(epochs: int) -> dict:
    # one step an epoch, no val and no test split (data.val_fraction = test_fraction = 0); the
    # "step" schedule multiplies the lr by 1e30 after epoch 1, so step 1's update overflows the
    # weights (|w| ~ 4e27, the model's loss on its own training data is NaN) while step 1's
    # loss and gradient are finite
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.05},
        schedule={"name": "step", "step_size": 1, "gamma": 1e30},
        train={"epochs": epochs, "batch_size": 4096},
        data={"val_fraction": 0.0, "test_fraction": 0.0},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train(cfg, progress=False, device="cpu", write=False).summary["models"][0]


# Wrong: the evaluation stop (Trainer._stop_diverged_in_evaluation, src/trainlab/train.py) only
# looks at the val/test losses "of the splits there are"; with neither split, a model whose
# last update overflowed its weights is reported status "ok", stopped_step None, with finite
# final numbers, although its loss on its own training data is NaN. The same config run for 3
# epochs reports it "nan" at step 2 (step 2's loss), so the 2-epoch result depends on the run's
# length, which the evaluation stop was added to prevent ("same result for 2 epochs, 4 epochs,
# and 2 resumed to 4"). Right: status "nan" at step 2, as the longer run. (Fix: with no val and
# no test split, judge the epoch's end on the training split, at least at the run's last epoch:
# Trainer.evaluate("train").)
def test_no_eval_split_last_update_overflow_is_a_nan_stop_as_in_a_longer_run():
    m = _no_split_run(2)
    assert (m["status"], m["stopped_step"]) == ("nan", 2), m
