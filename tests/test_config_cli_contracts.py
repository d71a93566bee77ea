"""Configs and the CLI: config files and ``--set`` values that are user errors are
refused in one line (exit 2), the resolved config.yaml loads back, ``--seeds`` forms parse."""

import pytest

from conftest import assert_user_error, run_cli
from trainlab.cli.app import parse_seeds
from trainlab.config import dump_config, load_config, load_yaml, parse_config
from trainlab.errors import ConfigError

SMALL = """
name: review
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""


# -- config files, --set values, --seeds -----------------------------------------------------


@pytest.mark.parametrize("name", ["1e-3", "2E5"])
def test_resolved_config_with_an_exponent_like_string_loads_back(name):
    """dump_config quotes a string that trainlab's loader would read as a float ('1e-3'):
    config.yaml loads back as it was."""
    cfg = parse_config({"name": name, "data": {"options": {"tag": "1e5"}}})
    assert parse_config(load_yaml(dump_config(cfg))) == cfg


def test_a_run_named_like_a_number_can_be_resumed(monkeypatch, capsys, tmp_path):
    """A run named '1e-3' (quoted) can be resumed: its own config.yaml loads."""
    path = tmp_path / "c.yaml"
    path.write_text(SMALL.replace("name: review", "name: '1e-3'"))
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", path, "--out", out, "--device", "cpu", "--no-report"
    )
    assert code in (0, None), err
    code, _, err = run_cli(monkeypatch, capsys, "resume", out, "--device", "cpu", "--no-report")
    assert code in (0, None), err


def test_a_seed_range_and_a_list_combine():
    """The contract's '0-2,5': a list may hold ranges."""
    assert parse_seeds("0-2,5") == [0, 1, 2, 5]
    assert parse_seeds("0-1,4-5") == [0, 1, 4, 5]


@pytest.mark.parametrize("text", ["[]", "0", "false", "''"])
def test_a_config_file_that_is_not_a_mapping_is_refused(tmp_path, text):
    """A falsy document that is not a mapping ([], 0, false, '') is refused, not read as
    'every default'."""
    path = tmp_path / "c.yaml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)


def test_a_duplicate_key_is_refused_not_silently_dropped(monkeypatch, capsys, tmp_path):
    """A key given twice is refused (PyYAML would keep the last one silently)."""
    path = tmp_path / "c.yaml"
    path.write_text(SMALL + "optim: {lr: 0.1}\noptim: {name: sgd}\n")
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, "train", path, "--out", out, "--device", "cpu")
    assert_user_error(code, err, "optim")
    assert not out.exists()


@pytest.mark.parametrize(
    "setting",
    [pytest.param("optim.lr=.inf", id="lr-inf"), pytest.param("train.epochs=true", id="bool")],
)
def test_set_values_of_the_wrong_kind_are_refused(setting):
    """lr=inf is refused (no infinite or NaN numbers), and a YAML bool is not a number."""
    with pytest.raises(ConfigError):
        load_config(None, [setting])


# -- values with '=', names with paths, huge ranges, no CUDA ------------------------------------


def test_set_value_keeps_an_equals_sign_and_yaml_types():
    cfg = load_config(
        None, ["data.options.note=a=b", "train.clip_norm=null", "optim.betas=[0.9, 0.99]"]
    )
    assert cfg.data.options == {"note": "a=b"} and cfg.train.clip_norm is None
    assert cfg.optim.model_dump()["betas"] == [0.9, 0.99]


@pytest.mark.parametrize("setting", ["name=a/b", "name=..", "name=x/../../y"])
def test_a_run_name_that_is_a_path_is_refused_before_anything_is_written(
    monkeypatch, capsys, tmp_path, setting
):
    path = tmp_path / "c.yaml"
    path.write_text(SMALL)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(monkeypatch, capsys, "train", path, "--set", setting)
    assert_user_error(code, err, "plain folder name")
    assert not (tmp_path / "runs").exists()


def test_cuda_on_a_cpu_machine_and_huge_seed_ranges_are_one_line(monkeypatch, capsys, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(SMALL)
    out = tmp_path / "run"
    args = ["train", path, "--out", out]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--seeds", "0-999999999")
    assert_user_error(code, err, "more than")
    code, _, err = run_cli(monkeypatch, capsys, *args, "--seeds", "1e9")
    assert_user_error(code, err, "--seeds '1e9'")
    import torch

    if not torch.cuda.is_available():
        code, _, err = run_cli(monkeypatch, capsys, *args, "--device", "cuda")
        assert_user_error(code, err, "no CUDA device")
    assert not out.exists()
