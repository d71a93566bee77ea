"""Review of examples/*.yaml as a student uses them (reviewer examples18): keys that an example
sets, or that a user sets on it with --set, must not be silently ignored."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from trainlab.config import load_config, members
from trainlab.pretrain.run import load_pretrain_config

EXAMPLES = Path(__file__).parents[1] / "examples"


def _refused_or_warned(build, key: str) -> bool:
    """True when ``build()`` raises an error naming ``key`` or warns naming it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            build()
        except Exception as err:  # noqa: BLE001 - a refusal (ConfigError/UserError) names the key
            return key in str(err)
    return any(key in str(w.message) for w in caught)


def _train_build(name: str, sets: list[str]):
    def build():
        from trainlab.train import Trainer

        config = load_config(EXAMPLES / name, sets)
        Trainer(config, device="cpu")

    return build


@pytest.mark.parametrize(
    ("example", "key", "value"),
    [
        ("lr_sweep_sgd.yaml", "optim.lr", "0.05"),
        ("digits_mlp_dropout.yaml", "model.dropout", "0.1"),
    ],
)
def test_set_of_a_key_every_model_overrides_is_not_silently_ignored(example, key, value):
    # wrong: `--set optim.lr=0.05` on lr_sweep_sgd.yaml (or model.dropout on the dropout example)
    # trains no model with it (the grid replaces it for every model) and says nothing; right:
    # refuse it or warn, naming the key and the grid that replaces it
    build = _train_build(example, [f"{key}={value}", "population.seeds=[0]"])
    assert _refused_or_warned(build, key)


def test_pretrain_set_learning_rate_under_a_learning_rate_grid_is_not_silently_ignored():
    # wrong: `trainlab pretrain examples/pretrain_rbm.yaml --set train.learning_rate=0.5` trains
    # models at 0.02 and 0.06 only while config.yaml records 0.5; right: refuse (as keys a kind
    # does not use are refused in validation) or warn, naming train.learning_rate
    build = lambda: load_pretrain_config(  # noqa: E731
        EXAMPLES / "pretrain_rbm.yaml", ["train.learning_rate=0.5"]
    )
    assert _refused_or_warned(build, "learning_rate")


def test_mnist1d_test_fraction_is_not_silently_ignored():
    # wrong: `--set data.test_fraction=0.5` on mnist1d_cnn.yaml keeps mnist1d's own 1000-sample
    # test split without a word (config.yaml and the report still say test_fraction 0.5);
    # right: refuse or warn that mnist1d comes with its own test split
    build = _train_build("mnist1d_cnn.yaml", ["data.test_fraction=0.5", "population.seeds=[0]"])
    assert _refused_or_warned(build, "test_fraction")


@pytest.mark.parametrize("example", ["digits_mlp_dropout.yaml", "lr_sweep_sgd.yaml"])
def test_an_example_sets_no_value_that_no_model_trains_with(example):
    # wrong: digits_mlp_dropout.yaml writes model.dropout: 0.3 and lr_sweep_sgd.yaml
    # optim.lr: 0.01, but the grid overrides that key in every model, so no model uses the
    # value a student reads (and config.yaml repeats); right: leave it out of the example
    raw = yaml.safe_load((EXAMPLES / example).read_text())
    config = load_config(EXAMPLES / example)
    for key in raw["population"]["grid"]:
        section, name = key.split(".")
        if name in (raw.get(section) or {}):
            assert not all(key in m.overrides for m in members(config)), (
                f"{example}: {key}: {raw[section][name]} is replaced by the grid in every model"
            )


def test_pretrain_rbm_example_sets_no_learning_rate_that_no_model_trains_with():
    # wrong: pretrain_rbm.yaml writes train.learning_rate: 0.06 and grid learning_rate
    # [0.02, 0.06]; every model takes the grid's value, so the 0.06 is dead; right: leave it out
    raw = yaml.safe_load((EXAMPLES / "pretrain_rbm.yaml").read_text())
    assert not ("learning_rate" in raw.get("grid", {}) and "learning_rate" in raw["train"])
