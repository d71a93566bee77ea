"""Mutation review mut39n: trainlab.config beyond its bounds and --set parsing (mut36k): per-model
values given as text, schedule_kwargs, resolve's member config, the factory defaults written to
config.yaml and read back, a mapping's empty sections, and the hint for a dotted key in a file.
Each test names the mutant it kills; expected values come from README.md ("Configs"), the
functions' docstrings, torch's own signatures, yaml.safe_load, or hand reasoning."""

from __future__ import annotations

import inspect

import pytest
import torch
import yaml

from trainlab.config import (
    as_config,
    dump_config,
    load_config,
    members,
    parse_config,
    resolve,
    schedule_kwargs,
    with_default_widths,
    with_factory_defaults,
)
from trainlab.errors import ConfigError


# kills config.py:396 `return [_as_declared(key, v) for v in value]` -> `return value`: README "A
# number given as text in a grid or variant is that number"; a list value's elements are read the
# same way (optim.betas: [0.9, "0.99"]).
def test_text_number_inside_a_list_value_is_that_number():
    c = parse_config(
        {
            "population": {
                "grid": {"optim.betas": [[0.9, "0.99"], [0.8, "0.9"]]},
                "variants": [{"init.scheme": "normal", "init.std": ["0.5"]}],
            }
        }
    )
    assert c.population.grid["optim.betas"] == [[0.9, 0.99], [0.8, 0.9]]
    assert c.population.variants[0]["init.std"] == [0.5]


# kills config.py:403 `if not issubclass(section, _Open)` -> `if issubclass(...)`: an open section's
# extra option (init.std) given as text in a grid or variant is that number (README).
def test_text_number_for_an_open_sections_option_is_that_number():
    c = parse_config(
        {
            "init": {"scheme": "normal"},
            "population": {"grid": {"init.std": ["0.05", "1e-2"]}},
        }
    )
    assert c.population.grid["init.std"] == [0.05, 0.01]
    assert [m.overrides["init.std"] for m in members(c)] == [0.05, 0.01]


# kills config.py:409 dropping `and not isinstance(number, bool)`: only text that reads as a
# number becomes one; "true" is no number and stays the text given (resolve names it).
def test_text_true_in_a_variant_is_not_read_as_a_bool():
    c = parse_config({"population": {"variants": [{"init.std": "true"}, {"init.std": "yes"}]}})
    assert c.population.variants == [{"init.std": "true"}, {"init.std": "yes"}]
    assert all(isinstance(v["init.std"], str) for v in c.population.variants)


# kills config.py:521 `m.overrides.get(key, base)` -> `m.overrides.get(key, KEEP_DEFAULT)`: a model
# that does not override schedule.gamma trains with the config's own schedule.gamma.
def test_schedule_kwargs_model_without_override_takes_the_configs_value():
    c = parse_config(
        {
            "schedule": {"name": "step", "step_size": 2, "gamma": 0.5},
            "population": {"seeds": [0, 1], "variants": [{"schedule.gamma": 0.1}, {}]},
        }
    )
    kw = schedule_kwargs(c)
    assert kw["gamma"] == [0.1, 0.1, 0.5, 0.5]  # variants outermost, seeds innermost
    assert kw["step_size"] == 2


# kills config.py:522 `v == values[0]` -> `v is values[0]` and config.py:523 `kw[name] =
# values[0]` -> `kw[name] = values`: models that all set the same value get one value, not a
# per-model list (the variants vary only optim.lr). Read from YAML, each 0.5 is its own object.
def test_schedule_kwargs_same_value_in_every_variant_is_one_value(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "schedule: {name: step, step_size: 2}\n"
        "population:\n"
        "  seeds: [0, 1]\n"
        "  variants:\n"
        "    - {schedule.gamma: 0.5, optim.lr: 0.1}\n"
        "    - {schedule.gamma: 0.5, optim.lr: 0.2}\n"
    )
    c = load_config(path)
    assert schedule_kwargs(c)["gamma"] == 0.5


# kills config.py:558 `model_dump(exclude={"population"})` -> `exclude=set()`: resolve's docstring:
# the member's population is the default one (one model: seeds [0], no grid, one empty variant).
def test_resolve_gives_the_member_the_default_population():
    c = parse_config({"population": {"seeds": [3, 4, 5], "grid": {"optim.lr": [0.1, 0.2]}}})
    one = resolve(c, members(c)[3].overrides)
    assert one.optim.lr == 0.2
    assert (one.population.seeds, one.population.grid, one.population.variants) == ([0], {}, [{}])


# kills config.py:1319 `"init.scheme" not in keys` -> `in keys`: README, every default of the init
# scheme is written to config.yaml (xavier_uniform's gain: torch's own default); not so when the
# models vary init.scheme (each scheme takes other options).
def test_factory_defaults_write_the_init_schemes_options():
    gain = inspect.signature(torch.nn.init.xavier_uniform_).parameters["gain"].default
    full = with_factory_defaults(parse_config({"init": {"scheme": "xavier_uniform"}}))
    assert full.init.model_extra == {"gain": gain}
    varied = with_factory_defaults(
        parse_config(
            {
                "init": {"scheme": "xavier_uniform"},
                "population": {"grid": {"init.scheme": ["xavier_uniform", "he_normal"]}},
            }
        )
    )
    assert varied.init.model_extra == {}


# kills config.py:1342 dropping `and model.get("depth") is None`: with_default_widths writes the
# widths only where the mlp gives neither hidden nor depth (depth picks its own widths).
def test_default_widths_not_written_next_to_a_depth():
    raw = {"model": {"name": "mlp", "depth": 3}}
    assert with_default_widths(raw) == {"model": {"name": "mlp", "depth": 3}}
    raw = {"model": {"name": "mlp", "depth": 3, "hidden": None}}
    assert with_default_widths(raw)["model"]["hidden"] is None


# kills config.py:1324 `list(default) if isinstance(default, tuple) else default` -> `default`:
# config.yaml, written from the config with the optimizer's defaults (Adam's betas, a tuple in
# torch's signature), reads back equal to it, and yaml.safe_load reads the betas as torch's.
def test_factory_defaults_round_trip_through_config_yaml(tmp_path):
    betas = inspect.signature(torch.optim.Adam).parameters["betas"].default
    full = with_factory_defaults(parse_config({"optim": {"name": "adam"}}))
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(full))
    assert yaml.safe_load(path.read_text())["optim"]["betas"] == list(betas)
    assert load_config(path) == full


# kills config.py:1126 `_empty_sections_default(dict(config))` -> `dict(config)`: as_config of a
# mapping reads an empty section (`train:` in a file yaml.safe_load read: None) as its defaults,
# as load_config does a file's.
def test_as_config_mapping_empty_section_takes_defaults(tmp_path):
    text = "train:\noptim: {lr: 0.01}\n"
    raw = yaml.safe_load(text)
    assert raw["train"] is None
    c = as_config(raw)
    assert c.optim.lr == 0.01
    assert c.train == parse_config({}).train
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert as_config(raw) == load_config(path)


# kills config.py:625 `head in fields` -> `head not in fields`, config.py:628 `rest[5:]` ->
# `rest[4:]` and config.py:630 `rest[9:]` -> `rest[8:]`: a dotted key written in a file is told
# to be nested; a grid axis keeps its dots, a variant is a list of dicts.
@pytest.mark.parametrize(
    ("key", "nested"),
    [
        ("optim.lr", "optim: {lr: ...}"),
        ("population.grid.optim.lr", "population: {grid: {optim.lr: [...]}}"),
        ("population.variants.init.scheme", "population: {variants: [{init.scheme: ...}]}"),
    ],
)
def test_dotted_key_in_a_file_is_told_to_nest(key, nested):
    with pytest.raises(ConfigError) as err:
        parse_config({key: 0.1})
    assert f"write it nested ({nested})" in str(err.value)


# kills config.py:579 swapping "population.grid" and "population.variants": a bad per-model value
# is named where it was set (resolve), the grid's in the grid, a variant's in the variants.
def test_resolve_names_where_a_bad_per_model_value_was_set():
    c = parse_config(
        {
            "population": {
                "variants": [{"init.bias": 0.0}, {"init.bias": "x"}],
                "grid": {"optim.lr": [0.1, -1.0]},
            }
        }
    )
    with pytest.raises(ConfigError) as err:
        resolve(c, {"optim.lr": -1.0})
    assert str(err.value).startswith("population.grid (optim.lr=-1.0)")
    with pytest.raises(ConfigError) as err:
        resolve(c, {"init.bias": "x"})
    assert str(err.value).startswith("population.variants (init.bias=")
