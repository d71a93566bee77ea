"""Adversarial review of DESIGN.md principle 2 across feature combinations: "a model's result
depends only on its own config and seed, never on K or its slot".

The numbers themselves held up (see the review report: per-model lr / weight decay / momentum /
betas / eps for every optimizer, init schemes with their scales, LSUV, dropout rates, batch
norm, step / cosine+warmup / one-cycle / cyclic / SGDR / exponential schedules with per-model
parameters, clip_norm and clip_value, early stopping and NaN neighbours, the stacked, vmap and
loop modes, convnet and resnet, and resume after a kill all agree with the member trained
alone to float rounding). What does depend on K is *which configs are accepted*: a member's
per-model value is validated by one code path when it trains alone and by another
(``train._per_model``, the dropout list in ``Trainer.__init__``) inside a population.
"""

from __future__ import annotations

import pytest

from conftest import assert_user_error, run_cli
from trainlab.config import parse_config
from trainlab.errors import UserError
from trainlab.train import train


def _config(optim: dict, population: dict):
    return parse_config(
        {
            "name": "review",
            "model": {"name": "mlp", "hidden": [16]},
            "init": {"scheme": "xavier_uniform"},
            "optim": optim,
            "train": {"epochs": 1, "batch_size": 64},
            "population": population,
        }
    )


def _train(cfg):
    return train(cfg, write=False, progress=False, device="cpu")


@pytest.mark.parametrize(
    "betas", [[0.8], 0.8, [0.8, 0.99, 0.5]], ids=["one-value", "a-number", "three-values"]
)
def test_per_model_betas_that_are_not_a_pair_are_refused_as_they_are_alone(betas):
    """A member whose ``optim.betas`` is not a pair (β₁, β₂) is refused when it trains alone,
    with trainlab's one-line ConfigError ("betas must be a pair (beta1, beta2) ..."). The same
    member inside a population (a variant next to a default one) must be refused the same way:
    whether a config is valid cannot depend on K. Today ``train._per_model`` splits the
    members' betas with ``v[j] for j in range(2)``: one value raises a bare ``IndexError``, a
    number a ``TypeError`` (tracebacks in the CLI), and three values are silently cut to the
    first two, so the model trains with betas the user never asked for, while the same config
    alone is an error."""
    with pytest.raises(UserError, match="betas"):  # alone: refused in one clear line
        _train(_config({"name": "adam", "lr": 0.01, "betas": betas}, {"seeds": [0]}))
    pop = _config(
        {"name": "adam", "lr": 0.01},
        {"seeds": [0], "variants": [{}, {"optim.betas": betas}]},
    )
    with pytest.raises(UserError, match="betas"):
        _train(pop)


def test_cli_a_variant_with_one_beta_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    """``trainlab train`` with a variant ``{optim.betas: [0.8]}`` (a user who meant to vary β₁
    only) is a user error: issue 3 asks for one clear line and exit status 2, and no run
    folder. Today the population path dies with ``IndexError: list index out of range`` and a
    traceback from ``train._per_model``."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: review\nmodel: {name: mlp, hidden: [16]}\ntrain: {epochs: 1, batch_size: 64}\n"
        "population:\n  seeds: [0]\n  variants: [{}, {optim.betas: [0.8]}]\n"
    )
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu"
    )  # fmt: skip
    assert_user_error(code, err, "betas")
    assert not out.exists()


@pytest.mark.parametrize("value", ["abc", "[0.1, 0.2]"], ids=["text", "per-layer-list"])
def test_cli_a_model_dropout_that_is_not_a_number_is_one_line_and_exit_2(
    monkeypatch, capsys, tmp_path, value
):
    """``--set model.dropout=[0.1, 0.2]`` (a user expecting one rate per hidden layer) or a
    typo such as ``model.dropout=abc`` is a user error: one line naming ``dropout``, exit 2,
    and no run folder (issue 3; DESIGN.md principle 6). Today ``Trainer.__init__`` reads every
    member's rate with a bare ``float(...)`` before the model (whose ``check_dropout`` gives the
    clear message) is built, so the user gets a ``ValueError``/``TypeError`` traceback."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: review\nmodel: {name: mlp, hidden: [16, 16]}\n"
        "train: {epochs: 1, batch_size: 64}\npopulation: {seeds: [0]}\n"
    )
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", f"model.dropout={value}",
        "--out", out, "--device", "cpu",
    )  # fmt: skip
    assert_user_error(code, err, "dropout")
    assert not out.exists()


def test_a_per_model_key_the_optimizer_does_not_take_is_named_as_it_is_alone():
    """Adam has no ``momentum``: alone, ``optim: {name: adam, momentum: 0.9}`` is refused with
    "optimizer 'adam' has no hyperparameter 'momentum'; did you mean ...". The same member as a
    variant next to a default one must get that diagnosis too. Today ``train._per_model`` fills
    the other member's value with ``None`` (Adam has no default for it) and reports "optim.momentum
    differs between models (['0.9', 'None']), but only numbers can vary inside one population;
    train separate runs instead": wrong (0.9 is a number) and its fix (separate runs) leads to
    the real error only afterwards."""
    with pytest.raises(UserError, match="no hyperparameter 'momentum'"):
        _train(_config({"name": "adam", "lr": 0.01, "momentum": 0.9}, {"seeds": [0]}))
    pop = _config(
        {"name": "adam", "lr": 0.01},
        {"seeds": [0], "variants": [{}, {"optim.momentum": 0.9}]},
    )
    with pytest.raises(UserError, match="no hyperparameter 'momentum'"):
        _train(pop)
