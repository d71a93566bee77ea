"""Review tests (pretraincli33): `trainlab pretrain CONFIG [--grid ...]`."""

from __future__ import annotations

import pytest

from trainlab.errors import ConfigError
from trainlab.pretrain.run import load_pretrain_config, run_pretrain


# A YAML config that gives train.learning_rate AND grid.learning_rate is accepted silently: the
# grid sets the lr of every model, so train.learning_rate (0.5 here) trains no model, yet
# config.yaml records it. The very same config written with `--set train.learning_rate=0.5` is
# refused by _sets_reach_a_model ("changes no model: grid.learning_rate sets it for every
# model"; its docstring: "config.yaml would record a value that no model trains with"), and the
# module promises keys that do nothing are an error, "never silently ignored". The YAML route
# must be refused the same way (ConfigError naming the grid), before any run folder is made.
@pytest.mark.parametrize("axis, value", [("learning_rate", 0.5), ("momentum", 0.9)])
def test_yaml_train_key_overridden_by_grid_is_refused(tmp_path, axis, value):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: c\n"
        "model: {kind: rbm, n_components: 4}\n"
        f"train: {{{axis}: {value}, n_iter: 1}}\n"
        f"grid: {{{axis}: [0.01, 0.02]}}\n"
    )
    with pytest.raises(ConfigError, match=f"grid.{axis}"):
        load_pretrain_config(cfg)
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=f"grid.{axis}"):
        run_pretrain(cfg, out=out, device="cpu")
    assert not out.exists()
