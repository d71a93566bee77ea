"""Review (sched20): learning-rate schedules and gradient clipping inside real training runs.

Each test fails on the code as reviewed and asserts the behaviour a user should get."""

from __future__ import annotations

import re

import pytest

from conftest import assert_user_error, config_file, run_cli

SMALL = """
name: review
model: {name: mlp, hidden: [8]}
optim: {name: sgd, lr: 0.1}
schedule: {name: cosine}
train: {epochs: 1, batch_size: 500}
population: {seeds: [0]}
"""


@pytest.mark.parametrize("name", ["lbfgs", "newton"])
def test_schedule_cli_refuses_a_full_batch_optimizer_as_train_does(
    monkeypatch, capsys, tmp_path, name
):
    # wrong: `trainlab schedule` says "optimizer 'lbfgs' has no hyperparameter 'weight_decay'"
    # (a default the user never wrote and cannot remove); right: the one-line "needs full-batch
    # closures" error that `trainlab train` and `trainlab lr-find` give for the same config
    cfg = config_file(tmp_path, SMALL)
    code, _, err = run_cli(monkeypatch, capsys, "schedule", cfg, "--set", f"optim.name={name}")
    assert_user_error(code, err, "full-batch")
    assert "weight_decay" not in err


def test_a_grid_over_a_schedule_parameter_is_not_called_impossible_per_model(tmp_path):
    # wrong: a grid over schedule.t_max is refused with "'schedule.t_max' cannot vary per
    # model", yet per-model schedule values are supported (schedule: {t_max: [K values]});
    # right: accept the grid axis, or name that way to give per-model schedule values
    from trainlab.config import load_config
    from trainlab.errors import UserError

    cfg = config_file(tmp_path, SMALL)
    try:
        load_config(cfg, ["population.grid={schedule.t_max: [3, 5]}"])
    except UserError as err:
        msg = str(err)
        assert re.search(r"list|one (value )?per model|K values", msg), msg


def test_nan_fix_hint_does_not_suggest_the_clip_norm_the_run_already_uses(
    monkeypatch, capsys, tmp_path
):
    # wrong: a run with train.clip_norm: 1 that still hits NaN is told "fix: ... set
    # train.clip_norm (e.g. --set train.clip_norm=1)", the very setting it ran with; right:
    # a hint that does not tell the user to set what is already set
    cfg = config_file(
        tmp_path,
        SMALL.replace("lr: 0.1", "lr: 1.0e+30").replace(
            "batch_size: 500}", "batch_size: 500, clip_norm: 1.0}"
        ),
    )
    code, out, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", tmp_path / "run", "--no-report",
        "--device", "cpu",
    )  # fmt: skip
    assert code in (0, None), err[-1500:]
    text = " ".join((out + err).split())  # rich wraps long lines
    assert "stopped: loss or gradient became NaN/Inf" in text  # the run did fail
    assert "--set train.clip_norm=1)" not in text, text[-800:]


def test_a_grid_over_a_schedule_parameter_trains_each_model_as_alone():
    # each model of a grid over schedule.t_max gets its own value: model 1 (t_max 5) ends with
    # the weights of the same model trained alone with schedule t_max 5 (principle 2)
    import torch

    from trainlab.config import parse_config
    from trainlab.train import train

    def cfg(schedule, grid):
        return parse_config({
            "model": {"name": "mlp", "hidden": [8]}, "optim": {"name": "sgd", "lr": 0.5},
            "schedule": {"name": "cosine", **schedule}, "train": {"epochs": 2, "batch_size": 500},
            "population": {"seeds": [0], "grid": grid},
        })  # fmt: skip

    pop = train(cfg({}, {"schedule.t_max": [3, 5]}), write=False, progress=False, device="cpu")
    alone = train(cfg({"t_max": 5}, {}), write=False, progress=False, device="cpu")
    assert [m.overrides["schedule.t_max"] for m in pop.members] == [3, 5]
    a, b = pop.model(1).state_dict(), alone.model(0).state_dict()
    assert all(torch.allclose(a[n], b[n], rtol=1e-6, atol=1e-7) for n in a)
    assert not torch.allclose(pop.model(0).state_dict()["fc1.weight"], a["fc1.weight"])
