"""Trainer.step_on refuses an index tensor of the wrong shape, dtype or device with one line
(torch's indexing errors, or a silent broadcast of a 1-D batch to every model, before)."""

from __future__ import annotations

import pytest
import torch

from conftest import small_config
from trainlab.errors import UserError


@pytest.fixture(scope="module")
def trainer():
    from trainlab.train import Trainer

    return Trainer(small_config(population={"seeds": [0, 1]}), device="cpu")


@pytest.mark.parametrize(
    "idx",
    [
        torch.arange(8),  # one batch for all: (b,), not (K, b)
        torch.zeros(3, 8, dtype=torch.int64),  # K = 3 rows for 2 models
        torch.zeros(2, 8),  # float indices
        [[0, 1], [2, 3]],  # not a tensor
    ],
)
def test_step_on_refuses_a_malformed_index(trainer, idx):
    with pytest.raises(UserError, match=r"step_on takes .*\(K=2, b\)"):
        trainer.step_on(idx)


def test_step_on_takes_a_well_formed_index(trainer):
    loss = trainer.step_on(torch.arange(16).view(2, 8))
    assert loss.shape == (2,) and torch.isfinite(loss).all()


def test_a_trainer_on_cuda_takes_an_index_on_cuda_0():
    # the trainer's device is torch.device("cuda") (no index) where tensors are on "cuda:0":
    # comparing the devices whole refused every batch
    from trainlab.train import Trainer

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    t = Trainer(small_config(population={"seeds": [0, 1]}), device="cuda")
    assert torch.isfinite(t.step_on(torch.arange(16, device="cuda").view(2, 8))).all()
