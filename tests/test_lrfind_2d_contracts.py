"""Adversarial review (second pass) of the LR finder, the lr-find CLI and optimizers-2d: the
LR-sweep variant's argument errors."""

from __future__ import annotations

import pytest

from conftest import assert_user_error, config_file, run_cli
from trainlab.config import parse_config
from trainlab.errors import UserError

SMALL = """
name: lrf
model: {name: mlp, hidden: [8]}
optim: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 500}
population: {seeds: [0]}
"""


@pytest.fixture
def small(tmp_path):
    return config_file(tmp_path, SMALL)


def test_lr_sweep_refuses_a_repeated_learning_rate_with_a_user_error():
    """``lr_sweep(config, lrs)`` checks its list and raises ``ConfigError`` (a UserError: one
    line in the CLI) for a bad one. A list that names one LR twice (``[1e-3, 0.001, 1e-2]``,
    typed by hand, or two values that round to the same float) is just as invalid: the two
    models would be the same model. Instead it escapes as a raw pydantic ``ValidationError``
    about ``population.grid``, a key the user never wrote, because ``lr_sweep`` builds its
    population with ``Config.model_validate`` and does not turn the error into a ConfigError.
    So a Python caller that catches ``UserError`` misses it. The fix: check for repeats in
    ``lr_sweep`` (or wrap the validation) and raise ConfigError."""
    from trainlab.optim.lr_find import lr_sweep

    cfg = parse_config(
        {
            "model": {"name": "mlp", "hidden": [8]},
            "train": {"epochs": 1, "batch_size": 500},
        }
    )
    with pytest.raises(UserError):
        lr_sweep(cfg, [1e-3, 0.001, 1e-2], device="cpu")


def test_lr_find_population_with_a_range_too_narrow_to_split_is_one_line(
    monkeypatch, capsys, tmp_path, small
):
    """``trainlab lr-find CONFIG --population N`` spaces N LRs from --start-lr to --end-lr.
    When the range is too narrow for N distinct floats (here 0.1 to the next float up, 3
    models: ``log_spaced`` gives [0.1, 0.1, 0.1]), the user error must be one line with exit
    code 2, like every other bad --start-lr/--end-lr. Instead the pydantic ValidationError for
    the repeated ``population.grid`` value is a Python traceback (``lr_sweep`` calls
    ``Config.model_validate`` directly, and the CLI's ``main`` catches only UserError)."""
    out = tmp_path / "lr.png"
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", small, "--out", out, "--population", "3",
        "--start-lr", "0.1", "--end-lr", "0.10000000000000002", "--device", "cpu",
    )  # fmt: skip
    assert_user_error(code, err)


@pytest.mark.parametrize("n", ["1", "-2"])
def test_lr_find_population_below_two_is_one_line(monkeypatch, capsys, tmp_path, small, n):
    """Every other bad lr-find argument (--steps 3, --epochs 0, --start-lr 0, --device tpu, an
    unknown --out format) is one line ``error: ...`` with exit code 2 (the CLI's error policy,
    ``conftest.assert_user_error``). ``--population 1`` (or a negative count) is the one
    exception: ``lr_find_cmd`` raises ``typer.BadParameter`` from inside the command body, so
    the user gets click's four-line ``Usage: ... Try 'trainlab lr-find --help' ... Error:
    Invalid value: ...`` block instead. It should raise UserError (ConfigError) like its
    neighbours, e.g. in ``lr_sweep``'s own checks."""
    out = tmp_path / "lr.png"
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", small, "--out", out, "--population", n, "--device", "cpu"
    )
    assert_user_error(code, err, "--population")
