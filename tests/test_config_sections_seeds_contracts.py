"""Review of configs and the CLI (2026-11-30): --seeds past the YAML size cap, empty
sections, the summary table without validation or test splits."""

from rich.console import Console

from conftest import run_cli
from trainlab.errors import UserError


class _Stop(Exception):
    pass


def test_train_seeds_within_max_seeds_are_not_refused_by_the_yaml_size_cap(
    monkeypatch, capsys, tmp_path
):
    # wrong: `trainlab train CFG --seeds N` re-serializes the seeds as YAML text through --set,
    # so the alias-bomb cap (MAX_YAML_VALUES = 100000) refuses `--seeds 100000`, which
    # MAX_SEEDS allows, saying "expands ... through its aliases (*name)" (and parsing 1e5 seeds
    # as YAML costs ~10 s). Right: --seeds sets population.seeds directly, never via YAML.
    import trainlab.config
    import trainlab.train

    monkeypatch.setattr(trainlab.config, "MAX_YAML_VALUES", 1000)  # (1e5 would take ~10 s)
    got = {}

    def fake_train(cfg, **kw):
        got["seeds"] = cfg.population.seeds
        raise _Stop

    monkeypatch.setattr(trainlab.train, "train", fake_train)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: s\nmodel: {name: mlp, hidden: [8]}\n")
    try:
        code, _, err = run_cli(
            monkeypatch, capsys, "train", cfg, "--seeds", "2000", "--out", tmp_path / "r"
        )
    except _Stop:
        code, err = None, ""
    assert code is None, err  # (today: exit 2, "... through its aliases (*name) ...")
    assert got["seeds"] == list(range(2000))


def test_summary_table_without_val_and_test_splits_does_not_read_as_nan_dropped():
    # wrong: with data.val_fraction 0 and test_fraction 0 the table shows n "0 of 1" and only
    # dashes, which (by summary_table's own rule) says the model was left out for NaN/Inf;
    # right: no "0 of K" when no model stopped (show the train numbers, the only ones there are).
    from trainlab.cli.core import summary_table
    from trainlab.report import aggregate

    none = {"mean": None, "std": None, "ci95": None, "n": 0}
    group = {
        "group": "default",
        "n": 1,
        "aggregates": {
            "train_loss": aggregate([2.2813]),
            "train_acc": aggregate([0.1408]),
            "val_loss": none, "val_acc": none, "test_loss": none, "test_acc": none,
        },
    }  # fmt: skip
    summary = {"name": "s", "k": 1, "epochs": 1, "groups": [group], "nan_models": []}
    console = Console(width=200, record=True)
    console.print(summary_table(summary, has_test=False))  # as _finish passes it (sizes [n,0,0])
    text = console.export_text()
    assert "0 of 1" not in text, text


def test_seeds_option_on_a_config_with_an_empty_population_section(tmp_path):
    # wrong: a section whose keys are all commented out (`population:` -> null) makes
    # `trainlab train CFG --seeds 3` fail with "cannot set 'population.seeds': 'population' is
    # not a section", naming a --set the user never typed and calling a section no section;
    # right: an empty section reads as {} (all defaults), or the error says the section is empty.
    from trainlab.config import load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: s\nmodel: {name: mlp, hidden: [8]}\npopulation:\n  # seeds: [0, 1]\n")
    try:
        loaded = load_config(cfg, ["population.seeds=[0, 1, 2]"])
    except UserError as err:
        assert "is not a section" not in str(err) and "empty" in str(err), str(err)
    else:
        assert loaded.population.seeds == [0, 1, 2]


def test_a_long_plain_list_is_not_blamed_on_aliases(monkeypatch):
    # a YAML value over the size cap that uses no alias was refused as an alias bomb; a plain
    # document holds no more values than its text (a run's config.yaml with 100,000 seeds
    # written out must read back), so only aliases are capped
    import pytest

    import trainlab.config
    from trainlab.config import ConfigError, load_config, load_yaml

    monkeypatch.setattr(trainlab.config, "MAX_YAML_VALUES", 100)
    assert load_config(None, [f"population.seeds={list(range(200))}"]).population.seeds == list(
        range(200)
    )
    with pytest.raises(ConfigError, match="aliases"):  # 3 x 50 values, shared: 151 > 100
        load_yaml("a: &x [" + ", ".join(["1"] * 50) + "]\nb: [*x, *x, *x]\n")


def test_an_empty_section_takes_its_defaults(tmp_path):
    # `train:` with its keys commented out is null in YAML: pydantic said "Input should be a
    # valid dictionary"; right: the section's defaults, as when it is left out
    from trainlab.config import load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: s\nmodel: {name: mlp, hidden: [8]}\ntrain:\n  # epochs: 3\n")
    assert load_config(cfg).train == load_config(None, ["model.hidden=[8]"]).train
