"""Review read29aj: the public trainlab.pretrain API (RBMPopulation, load_module, fine_tune)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainlab.errors import UserError
from trainlab.pretrain import arrays_dataset, fine_tune, unroll


def _tiny():
    rng = np.random.default_rng(0)
    x = rng.random((40, 6)).astype(np.float32)
    y = np.arange(40) % 2
    ds = arrays_dataset(x, y, x[:10], y[:10])
    g = torch.Generator().manual_seed(0)
    layers = [(rng.normal(0, 0.1, (4, 6)), np.zeros(4))]
    mods = [unroll(layers, 6, 2, generator=g) for _ in range(2)]
    return mods, ds


# fine_tune (src/trainlab/pretrain/dbn.py) converts seeds with `[int(s) for s in seeds]` before
# the config validates them: seeds=[0.5, 1] silently trains (and reports) seed 0, and
# seeds=[True, False] becomes [1, 0], where the trainer's own config (population.seeds) and
# RBMPopulation refuse a fractional or bool seed. A bad seed must be refused with a UserError
# (ConfigError is one) before any training, not truncated.
@pytest.mark.parametrize("seeds", [[0.5, 1], [True, False]])
def test_fine_tune_refuses_non_integer_seeds_instead_of_truncating(seeds):
    mods, ds = _tiny()
    with pytest.raises(UserError, match="seed"):
        fine_tune(mods, ds, seeds=seeds, epochs=1, batch_size=20)


# The same conversion makes fine_tune(seeds=["a", "b"]) crash with a bare
# "ValueError: invalid literal for int() with base 10: 'a'" that never says which argument is
# wrong; the config would have said "population.seeds.0: Input should be a valid integer".
def test_fine_tune_names_seeds_for_a_non_numeric_seed():
    mods, ds = _tiny()
    with pytest.raises(UserError, match="seed"):
        fine_tune(mods, ds, seeds=["a", "b"], epochs=1, batch_size=20)
