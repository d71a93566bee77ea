"""``lr_sweep`` (``trainlab lr-find --population``) trains the learning rates it is given; a
config's own ``population.grid`` over ``optim.lr`` is replaced, and the warning that lists
what of the config it does not use names it (it was dropped without a word)."""

from __future__ import annotations

import pytest

from conftest import small_config


def test_lr_sweep_names_the_configs_lr_grid_it_replaces():
    from trainlab.optim import lr_sweep

    cfg = small_config(population={"seeds": [0], "grid": {"optim.lr": [0.5, 0.05]}})
    with pytest.warns(UserWarning, match=r"not used: population.grid's optim.lr \[0.5, 0.05\]"):
        res = lr_sweep(cfg, [0.01, 0.1], device="cpu")
    assert res.lrs == [0.01, 0.1]
