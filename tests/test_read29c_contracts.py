"""Review read29c: a line-by-line read of src/trainlab/config.py (YAML loading, --set, hints,
population seeds/variants/grid). Each test fails on the code as reviewed."""

from __future__ import annotations

import time

import pytest

from trainlab.config import load_config, load_yaml
from trainlab.errors import ConfigError


def _load(tmp_path, text, sets=None):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path, sets)


def _error(tmp_path, text, sets=None) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text, sets)
    return str(info.value)


# _Loader claims to read numbers "as YAML 1.2 does", but its extra float resolver needs a digit
# before the dot, and PyYAML's own 1.1 pattern takes `.5` only without a sign or with a signed
# exponent. So `-.5`, `+.5`, `.5e3` and `-.5e-3` load as *strings*. In YAML 1.2's core schema
# (and in every YAML 1.2 reader, and in Python's float()) these are the numbers -0.5, 0.5, 500.0
# and -0.0005.
@pytest.mark.parametrize(
    ("text", "number"), [("-.5", -0.5), ("+.5", 0.5), (".5e3", 500.0), ("-.5e-3", -0.0005)]
)
def test_yaml12_floats_with_a_leading_dot_and_sign_are_numbers(text, number):
    value = load_yaml(f"a: {text}")["a"]
    assert isinstance(value, float) and value == number


# Consequence of the above in a population: `init.mean: [-.1, -0.1]` is the same value twice,
# which _check_distinct exists to refuse ("would train the same models twice, and their seeds
# would count twice"); today both are trained (groups "init.mean=-.1" and "init.mean=-0.1" with
# identical results) and summary.json records the override as the string "-.1".
def test_grid_refuses_the_same_negative_value_written_two_ways(tmp_path):
    msg = _error(
        tmp_path,
        "init: {scheme: normal}\npopulation: {grid: {init.mean: [-.1, -0.1]}}\n",
    )
    assert "init.mean" in msg and "twice" in msg


# And for an optimizer option: `optim.momentum: [.9, +.9]` is refused at build time with
# "differs between models (['+.9', '0.9']), but only numbers can vary", which is wrong on both
# counts: both are numbers, and they are the same number (a duplicate axis value).
def test_grid_reads_a_plus_signed_leading_dot_value_as_a_number(tmp_path):
    config = _load(
        tmp_path,
        "optim: {name: sgd}\npopulation: {grid: {optim.momentum: [.5, +.9]}}\n",
    )
    assert config.population.grid["optim.momentum"] == [0.5, 0.9]


# --seeds is capped at 100_000 models ("a typo like 0-1000000000 would not fit"), but a grid's
# product is not capped at all: 4 axes of 50 values (6.25 M models) load as a valid config, and
# `trainlab train` then spends minutes building 6.25 M Member objects and resolved configs until
# it runs out of memory (measured: 90 s and 6 GB before "out of memory"). The config should be
# refused at once, naming population.grid and the number of models.
def test_a_grid_whose_product_is_millions_of_models_is_refused_when_loaded(tmp_path):
    axis = [round(0.01 * i, 2) for i in range(50)]
    grid = {
        "optim.lr": [round(1e-4 * (i + 1), 6) for i in range(50)],
        "model.dropout": axis,
        "optim.weight_decay": axis,
        "init.bias": axis,
    }
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_config(None, [("population.grid", grid)])
    assert time.perf_counter() - t0 < 5
    assert "population.grid" in str(info.value) or "models" in str(info.value)


# A key written in the wrong section gets no hint, or a wrong one: top-level `variants:` says
# "(did you mean 'init'?)", and `seeds:`, `grid:`, `epochs:`, `lr:` and `train: {lr: ...}` say
# only "unknown key". The fix is the same key in its own section; the message should name it.
@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("variants: [{optim.lr: 0.1}]\n", "population.variants"),
        ("seeds: [0, 1]\n", "population.seeds"),
        ("grid: {optim.lr: [0.1, 0.2]}\n", "population.grid"),
        ("epochs: 3\n", "train.epochs"),
        ("train: {lr: 0.1}\n", "optim.lr"),
    ],
)
def test_a_key_in_the_wrong_section_is_named_in_its_own_section(tmp_path, text, fix):
    msg = _error(tmp_path, text)
    assert fix in msg
    assert "did you mean 'init'" not in msg


# `name: 2026-11-29` (a run named by its date, which the README shows working as
# `--set name=2026-11-29`) is a YAML date in a file: the error is pydantic's "name: Input should
# be a valid string (got datetime.date(2026, 11, 29))", which names the key but not the fix
# (quote it: name: '2026-11-29').
def test_a_date_or_number_run_name_in_a_file_says_to_quote_it(tmp_path):
    msg = _error(tmp_path, "name: 2026-11-29\n")
    assert "name" in msg and "quot" in msg.lower()


# `population.seeds: 5` (a count, as `--seeds 5` takes it) is refused with pydantic's
# "Input should be a valid list (got 5)": no word of what to write instead.
def test_a_seed_count_in_the_config_says_how_to_write_the_seeds(tmp_path):
    msg = _error(tmp_path, "population: {seeds: 5}\n")
    assert "population.seeds" in msg
    assert "[0, 1, 2, 3, 4]" in msg or "--seeds" in msg


# README: "a key that the grid or every variant sets for every model is refused, naming where to
# change it". `--set optim.lr=0.5` on an lr grid is refused, but the same lr given inside a
# section value, `--set 'optim={name: adam, lr: 0.5}'`, is accepted, written to config.yaml and
# used by no model.
def test_a_section_set_that_holds_a_grid_key_is_refused_too(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(
            None,
            ["population.grid.optim.lr=[0.1, 0.2]", "optim={name: adam, lr: 0.5}"],
        )
    assert "optim.lr" in str(info.value)


def test_the_cli_seed_cap_is_the_configs_model_cap():
    from trainlab.cli.app import MAX_SEEDS
    from trainlab.config import MAX_MODELS

    assert MAX_SEEDS == MAX_MODELS


# A file's empty section (`train:` with its keys commented out) takes its defaults; the same
# config as a dict (yaml.safe_load of that file, passed to train()) was refused ("Input should
# be a valid dictionary ... got None").
def test_a_dict_config_with_an_empty_section_takes_its_defaults():
    from trainlab.config import as_config

    assert (
        as_config({"train": None, "optim": {"lr": 0.5}}).train.epochs == load_config().train.epochs
    )


# YAML nested ~2000 levels deep (a file or a --set value) was a RecursionError traceback from
# PyYAML's composer; expected: one ConfigError naming the file.
def test_yaml_nested_too_deep_is_a_config_error_naming_the_file(tmp_path):
    deep = "[" * 2000 + "]" * 2000
    msg = _error(tmp_path, f"a: {deep}\n")
    assert "c.yaml" in msg and "nested too deeply" in msg
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(None, [f"train.epochs={deep}"])
