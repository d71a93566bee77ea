"""Review yaml21: config files and overrides as users write them (YAML edge cases, --set,
--seeds). Each test fails on the code as reviewed and asserts the behaviour a user needs."""

from __future__ import annotations

import pytest

from conftest import assert_user_error, run_cli
from trainlab.config import load_config, load_yaml
from trainlab.errors import ConfigError

TINY = "model: {name: mlp, hidden: [8]}\ntrain: {epochs: 1, batch_size: 256}\n"


# config.py load_yaml/parse_config: a self-referencing alias (`&m ... *m`) escapes as a
# RecursionError traceback from _python_numbers/deepcopy; it must be one ConfigError line, exit 2.
def test_recursive_alias_in_config_file_is_one_line_error(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rec.yaml"
    path.write_text("model: &m\n  name: mlp\n  extra: *m\n")
    code, _, err = run_cli(monkeypatch, capsys, "train", path, "--out", tmp_path / "run")
    assert_user_error(code, err)
    assert not (tmp_path / "run").exists()


# config.py _set_value: `--set model.hidden=&a [*a]` (a list containing itself) also escapes as a
# RecursionError; a --set value must fail with one ConfigError line.
def test_recursive_alias_in_set_value_is_config_error():
    with pytest.raises(ConfigError):
        load_config(None, ["model.hidden=&a [*a]"])


# config.py _Loader: PyYAML 6.0.x dedups merged keys by id() of the key text, so in
# `<<: [*first, *second]` the LATER mapping wins; the YAML merge spec (and users layering presets)
# say the earlier one wins: optim.lr must be 0.1 here, not 0.01.
def test_merge_key_sequence_earlier_mapping_wins(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text(TINY + "optim:\n  <<: [{lr: 0.1}, {name: sgd, lr: 0.01}]\n")
    cfg = load_config(path)
    assert cfg.optim.name == "sgd"
    assert cfg.optim.lr == 0.1


# config.py _Loader.construct_mapping: the duplicate-key check runs on node.value after
# flatten_mapping of an enclosing merge has already spliced merged keys into a shared anchored
# node, so valid YAML is refused with a false "duplicate key 'optim.lr'"; it must load.
def test_anchored_mapping_with_merge_override_reused_is_not_a_duplicate():
    text = (
        "population:\n"
        "  variants:\n"
        "    - <<: &slow\n"
        "        <<: {optim.lr: 0.1, optim.momentum: 0.9}\n"
        "        optim.lr: 0.01\n"
        "      init.scheme: he_normal\n"
        "    - *slow\n"
    )
    data = load_yaml(text)
    assert data["population"]["variants"][1] == {"optim.lr": 0.01, "optim.momentum": 0.9}


# config.py _blamed_option: every (key, value) pair is taken for --seeds, so the library call
# load_config(path, [("train.epochs", 0)]) blames "--seeds"; only the population.seeds pair is.
def test_parsed_pair_error_is_not_blamed_on_seeds(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(TINY)
    with pytest.raises(ConfigError) as err:
        load_config(path, [("train.epochs", 0)])
    assert "--seeds" not in str(err.value)


# cli/core.py train_cmd: --seeds is appended after every --set, so `--set population.seeds=[5,6]
# --seeds 3` silently trains seeds 0-2 and drops the --set; two ways of giving the seeds must be
# one clear error (exit 2) and no run.
def test_seeds_option_and_set_population_seeds_conflict(tmp_path, monkeypatch, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(TINY)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", path, "--set", "population.seeds=[5,6]", "--seeds", "3",
        "--out", out, "--no-report",
    )  # fmt: skip
    assert_user_error(code, err, "seeds")
    assert not out.exists()


# config.py read_yaml_file: a Latin-1/cp1252 config (an accented comment saved as "ANSI") is
# reported as "not a text YAML file (is it a checkpoint or an image?)"; it is text: say it is not
# UTF-8 and where, so the user re-saves it as UTF-8.
def test_latin1_config_says_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"# caf\xe9 run\n" + TINY.encode())
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "UTF-8" in str(err.value)
