"""Mutation review mut36k: trainlab.config's documented bounds, defaults, limits, member
expansion and --set parsing. Each test names the mutant it kills; expected values come from
README.md ("Configs"), docs/ARCHITECTURE.md (data.load's defaults), data.load's own
documented range [0, 1) for fractions, or from hand reasoning - never from running trainlab."""

from __future__ import annotations

import pytest

from trainlab.config import (
    MAX_EPOCHS,
    MAX_MODELS,
    apply_sets,
    load_yaml,
    members,
    parse_config,
    resolve,
    schedule_epochs,
)
from trainlab.errors import ConfigError


def _cfg(**sections):
    return parse_config(sections)


# kills config.py:156 `val_fraction ... ge=0.0` -> `gt=0.0` (and the same for test_fraction):
# data.load documents val_fraction/test_fraction as "a number in [0, 1)", so 0 is a valid value
# (no held-out split) and the config must accept it as load does.
def test_fractions_accept_zero():
    c = _cfg(data={"val_fraction": 0.0, "test_fraction": 0.0})
    assert c.data.val_fraction == 0.0 and c.data.test_fraction == 0.0


# kills config.py:156 `lt=1.0` -> `le=1.0`: a fraction of 1 holds out every sample (no training
# data); the documented range [0, 1) excludes it, refused when the config is read.
@pytest.mark.parametrize("key", ["val_fraction", "test_fraction"])
def test_fractions_refuse_one(key):
    with pytest.raises(ConfigError, match=key):
        _cfg(data={key: 1.0})


# kills config.py:157 default 0.2 -> 0.25 (and val 0.1): docs/ARCHITECTURE.md documents
# load(..., val_fraction=0.1, test_fraction=0.2); the config's defaults are load's.
def test_split_fraction_defaults_match_docs():
    c = parse_config({})
    assert (c.data.val_fraction, c.data.test_fraction, c.data.seed) == (0.1, 0.2, 0)


# kills config.py:201 default lr 1e-3 -> 1e-2: README "optim.lr defaults to 1e-3 for every
# optimizer".
@pytest.mark.parametrize("name", ["adam", "sgd", "adamw"])
def test_lr_default_is_1e_3_for_every_optimizer(name):
    assert _cfg(optim={"name": name}).optim.lr == pytest.approx(1e-3, rel=0, abs=0)


# kills config.py:201 `gt=0.0` -> `ge=0.0`: lr > 0 (a zero lr trains nothing); the smallest
# positive value is still accepted.
def test_lr_must_be_positive():
    with pytest.raises(ConfigError, match="optim.lr"):
        _cfg(optim={"lr": 0.0})
    assert _cfg(optim={"lr": 1e-12}).optim.lr == 1e-12


# kills config.py:202 `weight_decay ge=0.0` -> `gt=-1.0`: a negative weight decay is refused,
# zero accepted.
def test_weight_decay_not_negative():
    with pytest.raises(ConfigError, match="optim.weight_decay"):
        _cfg(optim={"weight_decay": -0.5})
    assert _cfg(optim={"weight_decay": 0.0}).optim.weight_decay == 0.0


# kills config.py:241/246/244/245 `ge=1` -> `ge=0` (batch_size, checkpoint_every,
# eval_batch_size) and `gt=0.0` -> `ge=0.0` (clip_norm, clip_value): a batch of 0 samples, a
# checkpoint every 0 epochs and a clip at norm 0 are meaningless; 1 (and a tiny positive clip)
# is the smallest valid value.
@pytest.mark.parametrize(
    "key, bad, good",
    [
        ("batch_size", 0, 1),
        ("checkpoint_every", 0, 1),
        ("eval_batch_size", 0, 1),
        ("early_stopping_patience", 0, 1),
        ("diagnose_every", 0, 1),
        ("clip_norm", 0.0, 1e-6),
        ("clip_value", 0.0, 1e-6),
    ],
)
def test_train_bounds(key, bad, good):
    with pytest.raises(ConfigError, match=f"train.{key}"):
        _cfg(train={key: bad})
    assert getattr(_cfg(train={key: good}).train, key) == good


# kills config.py:259 `v > MAX_EPOCHS` -> `v >= MAX_EPOCHS` and the constant 1_000_000 ->
# 100_000: the message says "at most 1,000,000 epochs", so exactly 1,000,000 is accepted.
def test_max_epochs_is_inclusive():
    assert MAX_EPOCHS == 1_000_000
    assert _cfg(train={"epochs": 1_000_000}).train.epochs == 1_000_000
    with pytest.raises(ConfigError, match="1,000,000"):
        _cfg(train={"epochs": 1_000_001})


# kills config.py:341 `n > MAX_MODELS` -> `n >= MAX_MODELS` and 100_000 -> 10_000: the error
# says "more than 100000", so 100,000 models (here 50,000 seeds x 2 lrs) fit and 100,002 do not.
def test_max_models_is_inclusive():
    assert MAX_MODELS == 100_000
    ok = _cfg(population={"seeds": list(range(50_000)), "grid": {"optim.lr": [0.1, 0.2]}})
    assert len(ok.population.seeds) == 50_000
    with pytest.raises(ConfigError, match="more than 100000"):
        _cfg(population={"seeds": list(range(50_001)), "grid": {"optim.lr": [0.1, 0.2]}})


# kills config.py:294 `abs(s) < 2**63` -> `<= 2**63`: "seeds must fit in 64 bits
# (|seed| < 2**63)": 2**63 - 1 fits, 2**63 and -2**63 do not.
def test_seed_64_bit_bound():
    assert _cfg(population={"seeds": [2**63 - 1, -(2**63 - 1)]}).population.seeds[0] == 2**63 - 1
    for s in (2**63, -(2**63)):
        with pytest.raises(ConfigError, match="64 bits"):
            _cfg(population={"seeds": [s]})


# kills config.py:496 `if n < e` -> `if n <= e`: a schedule spanning exactly the training is
# what schedule_epochs=None means, so schedule_epochs == epochs is valid.
def test_schedule_epochs_equal_to_epochs_is_valid():
    c = _cfg(train={"epochs": 4, "schedule_epochs": 4})
    assert schedule_epochs(c) == 4


# kills config.py:73 `len(key) > len(o)` -> `>=`: "optim." names no option; it cannot vary.
def test_bare_section_prefix_is_not_overridable():
    with pytest.raises(ConfigError, match="cannot vary per model"):
        _cfg(population={"grid": {"optim.": [0.1, 0.2]}})


# kills config.py:443 `twice = value in values[:i]` -> `twice = False`: an unhashable value
# (betas, a list) listed twice on a grid axis trains the same models twice; refused as numbers
# are.
def test_grid_refuses_repeated_list_values():
    with pytest.raises(ConfigError, match="twice"):
        _cfg(population={"grid": {"optim.betas": [[0.9, 0.99], [0.8, 0.9], [0.9, 0.99]]}})


# kills config.py:486 group label in config order -> sorted: README's group labels name the
# overrides as given (variant keys, then the grid's keys in the order the config lists them).
def test_group_label_keeps_config_order():
    c = _cfg(population={"grid": {"optim.lr": [0.1], "init.scheme": ["he_normal"]}})
    (m,) = members(c)
    assert m.group == "optim.lr=0.1, init.scheme=he_normal"


# README member order: variants outermost, grid points (last key fastest), seeds innermost.
# Hand expansion of 2 variants x grid 2x2 x seeds [5, 7].
def test_member_order_variants_grid_seeds():
    c = _cfg(
        population={
            "seeds": [5, 7],
            "variants": [{"init.scheme": "he_normal"}, {"init.scheme": "xavier_uniform"}],
            "grid": {"optim.lr": [0.1, 0.2], "optim.weight_decay": [0.0, 0.5]},
        }
    )
    got = [(m.overrides["init.scheme"], m.overrides["optim.lr"],
            m.overrides["optim.weight_decay"], m.seed) for m in members(c)]  # fmt: skip
    want = [
        (v, lr, wd, s)
        for v in ("he_normal", "xavier_uniform")
        for lr in (0.1, 0.2)
        for wd in (0.0, 0.5)
        for s in (5, 7)
    ]
    assert got == want
    assert [m.index for m in members(c)] == list(range(16))


# kills config.py:572 `or k in takes` -> `or False`: resolve drops only the base init options
# that the member's scheme does not take; orthogonal takes `gain`, so xavier's gain 2.0 stays.
def test_resolve_keeps_options_the_new_scheme_takes():
    c = _cfg(
        init={"scheme": "xavier_uniform", "gain": 2.0},
        population={"grid": {"init.scheme": ["xavier_uniform", "orthogonal"]}},
    )
    r = resolve(c, {"init.scheme": "orthogonal"})
    assert r.init.scheme == "orthogonal" and r.init.model_extra["gain"] == 2.0
    r2 = resolve(c, {"init.scheme": "normal"})  # normal takes std, mean: gain dropped
    assert "gain" not in (r2.init.model_extra or {})


# kills config.py:571 `(k == "bias" and scheme != "keep")` -> `(k == "bias")`: `keep` sets no
# bias ("leaves biases as they are"), so the base config's bias 0.25 is not carried to it.
def test_resolve_keep_scheme_drops_bias():
    c = _cfg(init={"scheme": "default", "bias": 0.25},
             population={"grid": {"init.scheme": ["default", "keep"]}})  # fmt: skip
    assert resolve(c, {"init.scheme": "he_normal"}).init.bias == 0.25
    assert resolve(c, {"init.scheme": "keep"}).init.bias != 0.25


# kills config.py:1085 the `#`-is-text branch -> skipped: README "a `#` in a value is text,
# not a comment" (for any key, not just text fields).
def test_set_hash_in_value_is_text():
    raw = apply_sets({}, ["model.tag=sweep #2", "train.early_stopping_metric=val_acc #x"])
    assert raw["model"]["tag"] == "sweep #2"
    assert raw["train"]["early_stopping_metric"] == "val_acc #x"


# kills config.py:1076 `return bare` -> `return text`: for a text field the value is the text
# typed after '=', without the surrounding blanks YAML would also drop (`--set "name = r1"`).
def test_set_text_field_strips_blanks():
    assert apply_sets({}, ["name = r1 "])["name"] == "r1"
    assert parse_config(apply_sets({}, ["data.name= digits"])).data.name == "digits"


# --set values parse as YAML 1.2 (README: `--set optim.lr=3e-3`, `[64,64]`): hand-read values.
def test_set_values_parse_as_yaml():
    raw = apply_sets(
        {}, ["optim.lr=3e-3", "model.hidden=[64,64]", "train.tf32=true",
             "train.early_stopping_patience=null", "population.grid.optim.lr=[0.1, 0.2]"]
    )  # fmt: skip
    assert raw["optim"]["lr"] == 0.003 and isinstance(raw["optim"]["lr"], float)
    assert raw["model"]["hidden"] == [64, 64]
    assert raw["train"]["tf32"] is True
    assert raw["train"]["early_stopping_patience"] is None
    assert raw["population"]["grid"] == {"optim.lr": [0.1, 0.2]}


# kills config.py:860 octal/hex bases swapped: YAML 1.2 core schema, 0o17 = 15, 0x1F = 31,
# 010 = 10 (decimal, not YAML 1.1's octal 8).
def test_yaml_integer_bases():
    assert load_yaml("[0o17, 0x1F, 010, 1_000]") == [15, 31, 10, 1000]


# kills config.py:650 the seeds-as-a-count hint -> dropped: `seeds: 3` in a file (the CLI's
# --seeds 3) is a count; the message shows the list it means.
def test_seeds_count_hint():
    with pytest.raises(ConfigError, match=r"e\.g\. \[0, 1, 2\]"):
        _cfg(population={"seeds": 3})


# kills config.py:669 `_home_section` -> None: a key of another section names where it goes.
def test_key_in_wrong_section_names_its_home():
    with pytest.raises(ConfigError, match=r"belongs in population \(write population.seeds\)"):
        _cfg(train={"seeds": [0, 1]})
    with pytest.raises(ConfigError, match=r"write optim.lr"):
        _cfg(train={"lr": 0.1})


# kills config.py:379 `name.strip()` -> `name`: a blank run name names no folder.
def test_blank_run_name_refused():
    with pytest.raises(ConfigError, match="plain folder name"):
        _cfg(name="   ")


# kills config.py:410 `if info.annotation not in (float, int)` -> `if True` (text kept): README
# "A number given as text in a grid or variant (`optim.lr: ["1e-3"]`, as `yaml.safe_load` reads
# it) is that number" - so it is recorded as 0.001 and "1e-3" next to 0.001 is a repeat.
def test_grid_number_text_is_that_number():
    c = _cfg(population={"grid": {"optim.lr": ["1e-3", 0.01]},
                         "variants": [{"optim.weight_decay": "5e-4"}]})  # fmt: skip
    m = members(c)
    assert m[0].overrides["optim.lr"] == 0.001 and isinstance(m[0].overrides["optim.lr"], float)
    assert m[0].overrides["optim.weight_decay"] == 0.0005
    assert m[0].group == "optim.weight_decay=0.0005, optim.lr=0.001"
    with pytest.raises(ConfigError, match="twice"):
        _cfg(population={"grid": {"optim.lr": ["1e-3", 0.001]}})


# kills config.py:1218/1220 (the grid / every-variant refusal of a --set that no model uses):
# README "a key that the grid or every variant sets for every model is refused, naming where
# to change it"; a key only some variants set still reaches the others, so it is accepted.
def test_set_that_reaches_no_model_is_refused(tmp_path):
    from trainlab.config import load_config

    grid = tmp_path / "grid.yaml"
    grid.write_text("population:\n  grid:\n    optim.lr: [0.1, 0.2]\n")
    with pytest.raises(ConfigError, match="population.grid"):
        load_config(grid, ["optim.lr=0.05"])
    var = tmp_path / "var.yaml"
    var.write_text("population:\n  variants:\n    - {optim.lr: 0.1}\n    - {optim.lr: 0.2}\n")
    with pytest.raises(ConfigError, match="every entry of population.variants"):
        load_config(var, ["optim.lr=0.05"])
    some = tmp_path / "some.yaml"
    some.write_text(
        "population:\n  variants:\n    - {optim.lr: 0.1}\n    - {init.scheme: normal}\n"
    )
    assert load_config(some, ["optim.lr=0.05"]).optim.lr == 0.05


# kills config.py:282 the bool-seed refusal -> skipped: `seeds: [true, 2]` is no list of
# integer seeds (YAML's true would silently be seed 1).
def test_bool_seeds_refused():
    with pytest.raises(ConfigError, match="population.seeds"):
        _cfg(population={"seeds": [True, 2]})


# kills config.py:1021 `copy.deepcopy(raw)` -> `dict(raw)`: apply_sets documents "raw (a copy:
# the caller's dict is left as it was)".
def test_apply_sets_leaves_callers_dict():
    raw = {"optim": {"lr": 0.1}, "population": {"grid": {"optim.lr": [0.1]}}}
    out = apply_sets(raw, ["optim.lr=0.2", "population.grid.optim.lr=[0.3]"])
    assert raw == {"optim": {"lr": 0.1}, "population": {"grid": {"optim.lr": [0.1]}}}
    assert out["optim"]["lr"] == 0.2


# kills config.py:731 the deepcopy in parse_config -> none: the config's open-section values
# must not be the caller's lists (editing the dict afterwards must not change the config).
def test_parse_config_copies_extra_values():
    raw = {"model": {"name": "mlp", "hidden": [8]}}
    c = parse_config(raw)
    raw["model"]["hidden"].append(9)
    assert c.model.model_extra["hidden"] == [8]


# kills config.py:998 the `None` section branch -> skipped: a nested section written empty
# (`options:` with its keys commented out, YAML null) takes a --set key like an absent one.
def test_set_into_null_nested_section():
    out = apply_sets({"data": {"options": None}}, ["data.options.noise=0.1"])
    assert out["data"]["options"] == {"noise": 0.1}


# kills config.py:639 `(not hint or _is_data_option(key))` -> `(not hint)`: a data set's own
# option written under data (noise: spirals's) points to data.options, not to the near miss
# 'options' that did-you-mean would pick.
def test_data_option_in_data_points_to_options():
    with pytest.raises(ConfigError, match=r"data\.options\.noise"):
        _cfg(data={"noise": 0.1})


# kills config.py:618 `errors()[:3]` -> `[:1]` and config.py:655 the "(+N more)" -> "": five
# bad train keys give the first three (in field order: epochs, batch_size, clip_norm) and
# "(+2 more)" (5 - 3, by hand).
def test_error_lists_three_and_counts_the_rest():
    with pytest.raises(ConfigError) as err:
        _cfg(train={"epochs": 0, "batch_size": 0, "checkpoint_every": 0,
                    "eval_batch_size": 0, "clip_norm": 0.0})  # fmt: skip
    msg = str(err.value)
    assert "train.epochs" in msg and "train.batch_size" in msg and "train.clip_norm" in msg
    assert msg.endswith("(+2 more)")


# kills config.py:1032 `not key.strip()` -> dropped and config.py:1025 the (key, value) check
# -> skipped: a --set without a key is refused by apply_sets itself, not written as key ''.
def test_set_without_key_refused():
    with pytest.raises(ConfigError, match="key=value"):
        apply_sets({}, [" =5"])
    with pytest.raises(ConfigError, match=r"\(key, value\) pair"):
        apply_sets({}, [(" ", 5)])


# kills config.py:460 `("optim.name", "schedule.name")` -> `("optim.name",)`: README
# "`optim.name` and `schedule.name` are one per population".
@pytest.mark.parametrize("key, what", [("optim.name", "optimizer"), ("schedule.name", "schedule")])
def test_name_cannot_vary_per_model(key, what):
    with pytest.raises(ConfigError, match=f"one {what} per population"):
        _cfg(population={"grid": {key: ["a", "b"]}})


# kills config.py:472 the reserved-key check of overrides -> skipped: a factory argument the
# trainer sets itself (RESERVED: optim.params, schedule.total_steps) cannot vary per model; the
# config refuses it when read, not only when a member is built.
@pytest.mark.parametrize("key", ["optim.params", "schedule.total_steps", "init.generator"])
def test_reserved_key_cannot_vary(key):
    with pytest.raises(ConfigError, match="set by the trainer"):
        _cfg(population={"variants": [{key: 1}]})


# kills config.py:592 `if config.init.scheme in schemes` -> `if True`: when every model
# overrides init.scheme, the base init's options still must belong to some scheme (a typo
# `stdd` would otherwise go unchecked into config.yaml).
def test_base_init_typo_checked_when_every_model_overrides_scheme():
    from trainlab.config import check_base_init
    from trainlab.errors import UserError

    c = _cfg(init={"scheme": "normal", "stdd": 0.1},
             population={"grid": {"init.scheme": ["he_normal", "xavier_uniform"]}})  # fmt: skip
    with pytest.raises(UserError, match=r"init\.stdd.*did you mean 'std'"):
        check_base_init(c, members(c))
    ok = _cfg(init={"scheme": "normal", "std": 0.1},
              population={"grid": {"init.scheme": ["he_normal", "xavier_uniform"]}})  # fmt: skip
    check_base_init(ok, members(ok))  # std belongs to the base scheme: accepted
