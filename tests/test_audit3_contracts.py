"""audit3: issue 3 audit. Errors from command-line overrides are blamed on the YAML file."""

import pytest

from conftest import assert_user_error, run_cli
from trainlab.config import load_config
from trainlab.errors import ConfigError


def _yaml(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("train:\n  epochs: 1\n")
    return path


@pytest.mark.parametrize("setting", ["trian.epochs=2", "train.epochs=abc"])
def test_a_bad_set_is_named_as_a_set_not_as_a_key_of_the_file(tmp_path, setting):
    # Wrong: "ok.yaml: unknown key 'trian'" names the YAML file, which has no such key; right:
    # the one-line error says the bad value came from --set.
    with pytest.raises(ConfigError) as err:
        load_config(_yaml(tmp_path), [setting])
    assert "--set" in str(err.value), str(err.value)


def test_a_bad_seeds_option_is_named_as_seeds_not_as_a_key_of_the_file(
    tmp_path, monkeypatch, capsys
):
    # Wrong: `train ok.yaml --seeds 9223372036854775808,1` says "ok.yaml: population.seeds: ...",
    # blaming a file that sets no seeds; right: the error names --seeds, where the value came from.
    args = ["train", _yaml(tmp_path), "--seeds", "9223372036854775808,1", "--out", tmp_path / "r"]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert_user_error(code, err, "--seeds")
