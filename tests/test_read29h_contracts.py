"""Review (read29h): line-by-line read of population.py (stacked layers, vmap, loop, members)."""

import copy
import warnings

import numpy as np
import torch
from torch import nn

import trainlab
from trainlab.population import Population
from trainlab.pretrain import arrays_dataset


# A stacked population passes parameter-free elementwise modules through as they are
# (population._twin returns `m` itself), in-place ones too. Population's own docstring and its
# shape error tell the user to share one batch with `pop(x.expand(K, *x.shape))`, and the
# trainer's evaluate feeds exactly that view in stacked mode; an in-place activation as the
# first layer (input clipping, nn.LeakyReLU(inplace=True)) then writes into an expanded
# tensor and torch raises "more than one element of the written-to tensor refers to a single
# memory location". Each plain model accepts the batch; the population must give model i the
# plain model i's output (inplace changes no result: population.py itself leaves it out of
# from_models' comparison). Fix: the twin of an elementwise module with inplace=True is a copy
# with inplace=False.
def test_stacked_inplace_first_layer_on_expanded_batch_matches_plain_models():
    torch.manual_seed(0)
    models = [nn.Sequential(nn.LeakyReLU(0.1, inplace=True), nn.Linear(4, 3)) for _ in range(2)]
    pop = Population.from_models(copy.deepcopy(models))
    assert pop.mode == "stacked"
    x = torch.randn(5, 4)
    y = pop(x.expand(2, *x.shape))  # as Population's docstring says to share one batch
    for i, m in enumerate(models):
        torch.testing.assert_close(y[i], m(x.clone()))


class _InplaceInput(nn.Module):
    """A user model whose first op edits its input in place (runs under vmap)."""

    def __init__(self) -> None:
        super().__init__()
        self.act = nn.LeakyReLU(0.1, inplace=True)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(self.act(x))


def _data():
    rs = np.random.RandomState(0)
    x = rs.randn(96, 16).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    return arrays_dataset(x, y, x[:16], y[:16], val_fraction=0.25)


def _train(model, seeds, ds):
    cfg = {
        "train": {"epochs": 3, "batch_size": 16},
        "optim": {"name": "sgd", "lr": 0.05},
        "population": {"seeds": seeds},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return trainlab.train(cfg, model=model, dataset=ds, write=False, progress=False)


# Trainer.evaluate hands the population x_val[s:e].expand(K, ...) (a view of the data set) and
# makes it `.contiguous()` for vmap/loop "because a user's forward may edit its input in
# place" -- but at K=1 the expanded view is already contiguous, so .contiguous() returns the
# same view and the forward's in-place op rewrites the data set's validation and test inputs
# at every evaluation (the stacked path at K=1 does the same). Seed 0 alone then reports
# val_loss 1.38565 / val_acc 0.25, and the same seed beside seed 1 (K=2, where the copy is
# made) 1.38344 / 0.208: DESIGN principle 2 (a model's result does not depend on K) is broken
# and the caller's Dataset is silently modified. Expected: the data set is unchanged and
# seed 0's metrics are the same at K=1 and K=2. Fix: copy the chunk (`.clone()`) whenever the
# forward may write it, at K=1 too, or never let trainlab's twins write their input.
def test_inplace_first_op_does_not_rewrite_val_data_and_metrics_do_not_depend_on_k():
    ds1 = _data()
    x_val, x_test = ds1.x_val.clone(), ds1.x_test.clone()
    alone = _train(_InplaceInput(), [0], ds1)
    assert torch.equal(ds1.x_val, x_val)
    assert torch.equal(ds1.x_test, x_test)
    torch.manual_seed(0)
    pair = _train(_InplaceInput(), [0, 1], _data())
    a = alone.summary["models"][0]["final"]
    b = pair.summary["models"][0]["final"]
    assert a["val_loss"] == b["val_loss"] or abs(a["val_loss"] - b["val_loss"]) < 1e-6
    assert a["val_acc"] == b["val_acc"]


# The same at K=1 in the stacked path (a Sequential): the data set must stay as given.
def test_stacked_k1_inplace_first_layer_leaves_dataset_unchanged():
    ds = _data()
    x_val = ds.x_val.clone()
    _train(nn.Sequential(nn.LeakyReLU(0.1, inplace=True), nn.Linear(16, 4)), [0], ds)
    assert torch.equal(ds.x_val, x_val)
