"""Review of per-model optimizer hyperparameters given through population.grid / variants.

Per-model values of every optimizer key (sgd momentum/dampening/nesterov, adagrad lr_decay /
initial_accumulator_value, rmsprop alpha/momentum/centered, adam/adamw betas/eps/weight_decay/
amsgrad) and per-model schedule lists agree with the model trained alone (and with torch.optim
in float64); what fails is ``optim.betas`` whose elements are not plain numbers.
"""

from __future__ import annotations

import pytest

from conftest import assert_user_error, run_cli, small_config
from trainlab.config import parse_config
from trainlab.errors import UserError
from trainlab.train import train


def _cfg(optim: dict, population: dict) -> dict:
    return {
        "data": {"name": "blobs", "options": {"n_samples": 120}},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": optim,
        "train": {"epochs": 1, "batch_size": 32},
        "population": population,
    }


def _train(raw: dict):
    return train(parse_config(raw), write=False, progress=False, device="cpu")


def test_per_model_betas_with_a_number_as_text_train_as_alone():
    # train._on feeds per-model betas to torch.tensor unconverted: a text beta ("0.9", which
    # trains alone and is "that number" per the README) dies with ValueError; it must train.
    grid = {"optim.betas": [[0.9, 0.999], [0.5, "0.9"]]}
    pop = _train(_cfg({"name": "adam", "lr": 0.01}, {"grid": grid}))
    alone = _train(_cfg({"name": "adam", "lr": 0.01, "betas": [0.5, 0.9]}, {"seeds": [0]}))
    for a, b in zip(alone.model(0).parameters(), pop.model(1).parameters(), strict=True):
        assert (a - b).abs().max().item() < 1e-5


def test_per_model_beta_null_is_a_user_error_naming_betas():
    # a null beta inside a population raises a bare TypeError ("must be real number, not
    # NoneType") from torch.tensor; it must be trainlab's one-line error naming betas.
    raw = _cfg({"name": "adam"}, {"grid": {"optim.betas": [[0.9, 0.999], [0.9, None]]}})
    with pytest.raises(UserError, match="beta"):
        _train(raw)


def test_summary_records_a_text_beta_as_the_number_trained():
    # summary.json's overrides/group keep the text '0.9' for optim.betas: [0.5, "0.9"], while
    # the model trained with 0.9 (optim.lr: ["1e-3"] is recorded as 0.001); record the number.
    res = _train(_cfg({"name": "adam"}, {"grid": {"optim.betas": [[0.5, "0.9"]]}}))
    assert res.summary["models"][0]["overrides"] == {"optim.betas": [0.5, 0.9]}


def test_cli_per_model_text_beta_is_one_line_exit_2_not_a_traceback(monkeypatch, capsys, tmp_path):
    # `trainlab train` with a grid beta that is no number ("0.9x") prints a TypeError
    # traceback and exits 1; it must be one line naming betas, exit 2, no run folder.
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "data: {name: blobs, options: {n_samples: 120}}\nmodel: {name: mlp, hidden: [8]}\n"
        "optim: {name: adam}\ntrain: {epochs: 1, batch_size: 32}\n"
        "population:\n  grid:\n    optim.betas: [[0.9, 0.999], [0.9, 0.9x]]\n"
    )
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu")
    assert_user_error(code, err, "beta")
    assert not out.exists()


def test_a_per_model_flag_given_as_numbers_is_named_as_the_config_wrote_it():
    # optim.amsgrad: [1, 0] in the grid was refused with "got tensor([1., 0.], dtype=...)";
    # the message shows the per-model values as a list
    cfg = small_config(
        optim={"name": "adam", "lr": 1e-3},
        population={"seeds": [0], "grid": {"optim.amsgrad": [1, 0]}},
    )
    with pytest.raises(UserError) as err:
        train(cfg, write=False, progress=False, device="cpu")
    assert "tensor(" not in str(err.value) and "[1.0, 0.0]" in str(err.value)
