import pytest

from trainlab.config import apply_sets, dump_config, load_config, members, parse_config, resolve
from trainlab.errors import ConfigError


def test_defaults_are_written_out():
    text = dump_config(parse_config({}))
    for key in ("data:", "model:", "init:", "optim:", "schedule:", "train:", "population:"):
        assert key in text
    assert load_config(None).train.epochs == 15


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"train": {"epoch": 3}}, "unknown key 'train.epoch' (did you mean 'epochs'?)"),
        ({"trian": {}}, "unknown key 'trian' (did you mean 'train'?)"),
        (
            {"data": {"name": "npz", "path": "a.npz"}},
            "unknown key 'data.path'; a data set's own options go under data.options "
            "(data.options.path)",
        ),
        ({"data": {"scale": "minmax"}}, "data.scale is a `trainlab pretrain` key"),
        ({"train": {"epochs": 0}}, "train.epochs"),
        ({"optim": {"lr": -1}}, "optim.lr"),
        ({"population": {"seeds": []}}, "at least one seed"),
        ({"population": {"seeds": [1, 1]}}, "distinct"),
        ({"population": {"variants": [{"train.epochs": 3}]}}, "cannot vary per model"),
        ({"population": {"grid": {"optim.lr": []}}}, "has no values"),
        ({"population": {"variants": [{"optim.name": "sgd"}]}}, "one optimizer per population"),
        (["not", "a", "mapping"], "expected a mapping"),
        ({"name": ""}, "name: must be a plain folder name"),
        ({"name": "../escape"}, "name: must be a plain folder name"),
        ({"name": "a/b"}, "name: must be a plain folder name"),
        ({"population": {"seeds": [2**64]}}, "seeds must fit in 64 bits"),
        ({"population": {"grid": {"optim.lr": [1e-3, 0.001]}}}, "lists 0.001 twice"),
        ({"population": {"grid": {"optim": {"lr": [0.1, 0.2]}}}}, "dotted, e.g. 'optim.lr'"),
        ({"population": {"variants": [{"init": {"std": 0.1}}]}}, "dotted, e.g. 'init.std'"),
        (
            {"population": {"variants": [{"init.scheme": "zeros"}, {"init.scheme": "zeros"}]}},
            "variant 1 repeats variant 0",
        ),
        (
            {"population": {"variants": [{"optim.lr": 0.1}], "grid": {"optim.lr": [0.1, 0.2]}}},
            "'optim.lr' is set by both population.variants and population.grid",
        ),
    ],
)
def test_bad_configs_give_one_clear_line(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: 3\n bad: [\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(bad)
    good = tmp_path / "good.yaml"
    good.write_text("train:\n  epochs: 3\nmodel:\n  hidden: [8]\n")
    cfg = load_config(good, ["optim.lr=3e-3", "population.seeds=[1, 2]", "model.activation=tanh"])
    assert cfg.train.epochs == 3 and cfg.optim.lr == 3e-3
    assert cfg.population.seeds == [1, 2] and cfg.model.activation == "tanh"
    with pytest.raises(ConfigError, match="key=value"):
        apply_sets({}, ["optim.lr"])
    grid = load_config(good, ["population.grid.optim.lr=[0.001, 0.01]"]).population.grid
    assert grid == {"optim.lr": [0.001, 0.01]}
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        load_config(good, ["train.epochz=2"])


def test_exponent_numbers_are_numbers_in_files_and_sets(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "init: {scheme: normal, std: 1e-2}\n"
        "population: {grid: {optim.lr: [1e-3, 3E-3, 0.01]}}\nname: '1e-3'\n"
    )
    cfg = load_config(path, ["optim.weight_decay=5e-4"])
    assert cfg.init.model_dump()["std"] == 0.01 and cfg.optim.weight_decay == 5e-4
    assert cfg.population.grid == {"optim.lr": [1e-3, 3e-3, 0.01]}
    assert cfg.name == "1e-3"  # quoted: still a string
    binary = tmp_path / "last.pt"
    binary.write_bytes(b"\x80\x02\xff\xfe binary")
    with pytest.raises(ConfigError, match="not a text YAML file"):
        load_config(binary)


def test_members_expand_seeds_variants_grid():
    cfg = parse_config(
        {
            "population": {
                "seeds": [0, 1],
                "variants": [{"init.scheme": "zeros"}, {"init.scheme": "he_normal"}],
                "grid": {"optim.lr": [0.1, 0.01]},
            }
        }
    )
    ms = members(cfg)
    assert len(ms) == 8
    assert [m.index for m in ms] == list(range(8))
    assert ms[0].overrides == {"init.scheme": "zeros", "optim.lr": 0.1}
    assert ms[0].group == "init.scheme=zeros, optim.lr=0.1"
    assert {m.seed for m in ms} == {0, 1}
    one = resolve(cfg, ms[3].overrides)
    assert one.init.scheme == "zeros" and one.optim.lr == 0.01


def test_a_folder_or_an_empty_file_is_not_a_config(tmp_path):
    (tmp_path / "a.yaml").write_text("train: {epochs: 2}\n")
    with pytest.raises(ConfigError, match="is a folder, not a config.*a.yaml") as err:
        load_config(tmp_path)
    assert "not found" not in str(err.value)
    for text in ("", "# only a comment\n"):
        empty = tmp_path / "empty.yaml"
        empty.write_text(text)
        with pytest.raises(ConfigError, match="is empty"):
            load_config(empty)
    (tmp_path / "defaults.yaml").write_text("{}\n")  # an explicit empty mapping: the defaults
    assert load_config(tmp_path / "defaults.yaml").train.epochs == 15


def test_duplicate_seeds_name_the_seed_once():
    with pytest.raises(ConfigError) as err:
        parse_config({"population": {"seeds": [0, 3, 3]}})
    assert "seed 3 appears 2 times" in str(err.value)
    assert str(err.value).count("[0, 3, 3]") == 1


def test_pretrain_config_errors_name_the_key_and_the_fix(tmp_path):
    from trainlab.pretrain.run import load_pretrain_config, run_pretrain

    train_cfg = tmp_path / "train.yaml"
    train_cfg.write_text("model: {name: mlp, hidden: [8]}\noptim: {name: adam}\n")
    with pytest.raises(ConfigError) as err:
        load_pretrain_config(train_cfg)
    msg = str(err.value)
    assert "unknown key 'model.name'" in msg and "kind, n_components" in msg
    assert "`trainlab train` config" in msg and "\n" not in msg
    typo = tmp_path / "typo.yaml"
    typo.write_text("model: {kind: rbm, n_compnents: 10}\n")
    with pytest.raises(ConfigError, match="did you mean 'n_components'"):
        load_pretrain_config(typo)
    with pytest.raises(ConfigError, match="grid key 'foo'"):
        run_pretrain(None, out=tmp_path / "r", grid={"foo": [1.0]})
    assert not (tmp_path / "r").exists()
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        load_pretrain_config(empty)


def test_a_grid_over_init_scheme_drops_base_options_the_scheme_does_not_take():
    """``init: {scheme: normal, std: 0.05}`` with a grid over ``init.scheme``: ``std`` stays
    with ``normal`` and is not handed to ``he_normal`` (which has no such option); an option a
    member sets itself is kept."""
    from trainlab.config import members, resolve

    cfg = parse_config(
        {
            "init": {"scheme": "normal", "std": 0.05},
            "population": {"grid": {"init.scheme": ["normal", "he_normal"]}},
        }
    )
    inits = [resolve(cfg, m.overrides).init.model_dump() for m in members(cfg)]
    assert inits == [
        {"scheme": "normal", "bias": 0.0, "std": 0.05},
        {"scheme": "he_normal", "bias": 0.0},
    ]
    own = resolve(cfg, {"init.scheme": "uniform", "init.std": 1.0}).init.model_dump()
    assert own["std"] == 1.0  # the member's own (unknown to uniform): init.apply refuses it
