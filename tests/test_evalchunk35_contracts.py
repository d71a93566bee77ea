"""Review of the trainer's evaluation (Trainer.evaluate) and the per-epoch metrics (evalchunk35)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.pretrain import arrays_dataset
from trainlab.train import train


def _no_heldout_dataset():
    g = np.random.default_rng(0)
    x = g.normal(size=(40, 6)).astype(np.float32)
    y = (np.arange(40) % 3).astype(np.int64)
    return arrays_dataset(x, y, None, None, val_fraction=0.0)  # neither a val nor a test split


# A run with neither a val nor a test split ends by evaluating the training split
# (train_eval_loss, Trainer._judged_on_train) with Trainer.evaluate's chunks of
# train.eval_batch_size. For a model that normalizes with its evaluation batch's own statistics
# (BatchNorm1d with track_running_stats=False) and train.eval_batch_size 1, every chunk but the
# merged last one holds one sample, which the model cannot evaluate. With a val or test split
# this is refused up front with a one-line UserError ("train.eval_batch_size 1 evaluates one
# sample at a time ... set train.eval_batch_size to 2 or more", _check_one_sample_splits), but
# without one the check looks only at the (empty) val/test splits: the whole run trains and then
# crashes at its last epoch with torch's raw ValueError traceback. The same UserError must be
# raised before training (the check should probe the training split when it is the one
# evaluated).
def test_eval_batch_size_1_refused_up_front_when_train_split_is_evaluated():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8, track_running_stats=False), nn.ReLU(), nn.Linear(8, 3)
    )
    cfg = {
        "optim": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 1, "batch_size": 16, "eval_batch_size": 1},
        "population": {"seeds": [0, 1]},
        "init": {"scheme": "keep"},
    }
    with pytest.raises(UserError, match="eval_batch_size"):
        train(
            cfg,
            write=False,
            progress=False,
            model=model,
            dataset=_no_heldout_dataset(),
            device="cpu",
        )
