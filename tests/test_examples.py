"""Every config in ``examples/`` stays valid as the code changes: a training config parses, its
population builds and takes a training step; a pre-training config parses (``trainlab pretrain``
itself is tested in test_rbm.py / test_dbn.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainlab import rng
from trainlab.config import load_config
from trainlab.pretrain.run import load_pretrain_config

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.yaml"))
PRETRAIN = {p for p in EXAMPLES if p.name.startswith("pretrain_")}


def test_the_examples_are_there():
    assert len(EXAMPLES) >= 5 and PRETRAIN  # the glob found the folder


@pytest.mark.parametrize("path", sorted(set(EXAMPLES) - PRETRAIN), ids=lambda p: p.stem)
def test_a_training_example_builds_and_steps(path):
    from trainlab.train import Trainer

    config = load_config(path)
    trainer = Trainer(config, device="cpu")
    n = trainer.data.x_train.shape[0]
    idx = rng.permutations(trainer.pop.seeds, 0, n)[:, : trainer.batch_size]
    loss = trainer.step_on(idx)
    assert loss.shape == (trainer.k,) and bool(torch.isfinite(loss).all())


@pytest.mark.parametrize("path", sorted(PRETRAIN), ids=lambda p: p.stem)
def test_a_pretraining_example_parses(path):
    cfg = load_pretrain_config(path)
    assert cfg.name and cfg.model.kind in ("rbm", "dbn", "sdae")
