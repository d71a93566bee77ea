"""Configs and population expansion, second pass: only model.dropout (exactly), optim.* and
init.* vary per model; arguments the trainer passes itself are refused; booleans are not
numbers in any section or in seeds; AdamW's weight decay default is the optimizer's."""

import pytest

from conftest import assert_user_error, run_cli, small_config
from trainlab.config import load_config, parse_config
from trainlab.errors import ConfigError

SMALL = """
name: review
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""


@pytest.mark.parametrize(
    "key", ["model.dropout_rate", "model.dropouts", "model.dropout.p"], ids=lambda k: k
)
def test_a_grid_over_a_model_key_that_only_starts_with_dropout_is_refused(key):
    """Only ``model.dropout`` may vary per model (README, config docstring: "overridable keys
    are optim.*, init.*, model.dropout"); every other ``model.*`` key is refused as "cannot
    vary per model". The check is a prefix test, so ``model.dropout_rate`` or
    ``model.dropouts`` (natural typos) pass it: the trainer builds one template from the base
    ``model`` section and never reads the member's key, so a grid ``model.dropout_rate:
    [0.0, 0.5]`` silently trains the same model twice under two group labels (and
    ``model.dropout.p`` ends in a TypeError traceback). A user sees a "dropout study" whose
    groups differ only by float rounding."""
    with pytest.raises(ConfigError, match="cannot vary per model"):
        parse_config({"population": {"seeds": [0], "grid": {key: [0.0, 0.5]}}})


@pytest.mark.parametrize(
    "setting",
    [
        "model.num_classes=10",
        "model.input_shape=[64]",
        "schedule.total_steps=100",
        "init.generator=0",
    ],
)
def test_a_factory_argument_the_trainer_passes_itself_is_one_clear_line(
    monkeypatch, capsys, tmp_path, setting
):
    """The open sections (``model``, ``init``, ``optim``, ``schedule``) hand their extra keys
    to a factory, "checked against that factory's signature when a run is built". Keys the
    trainer itself passes (``num_classes``/``input_shape`` to ``models.create``,
    ``total_steps`` to ``create_schedule``, ``generator`` to ``init.apply``) are not checked:
    writing ``model: {num_classes: 10}`` — which many users do — or a cosine schedule's
    ``total_steps`` ends in ``TypeError: got multiple values for keyword argument`` with a
    traceback, where the CLI promises one clear line and exit code 2."""
    path = tmp_path / "c.yaml"
    path.write_text(SMALL)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", path, "--out", out, "--device", "cpu", "--no-report",
        "--set", setting,
    )  # fmt: skip
    assert_user_error(code, err, setting.split("=")[0].split(".")[1])
    assert not out.exists()


@pytest.mark.parametrize("setting", ["optim.lr=true", "optim.weight_decay=true", "init.bias=true"])
def test_a_yaml_boolean_is_not_a_per_model_number(setting):
    """config.py refuses a YAML boolean for a numeric field because "pydantic reads true as
    1" (``--set train.epochs=true`` would train one epoch), but the check lives only on the
    strict sections. In ``optim`` and ``init`` the same mistake is accepted silently:
    ``--set optim.lr=true`` trains with lr = 1.0, ``init.bias=true`` fills biases with 1.0 —
    a run that is not what its config says and that config.yaml then records as 1.0."""
    with pytest.raises(ConfigError, match="expected a number"):
        load_config(None, [setting])


def test_adamw_named_in_a_config_gets_adamws_own_weight_decay_default():
    """``trainlab.optim.AdamW`` documents "weight_decay defaults to 1e-2, as in
    torch.optim.AdamW", and the README promises that the optimizer's defaults are the run's
    (written out to config.yaml). But ``OptimConfig.weight_decay`` has its own default 0.0,
    which always wins over the optimizer's: ``optim: {name: adamw}`` trains with decoupled
    weight decay 0, i.e. plain Adam, and config.yaml says ``weight_decay: 0.0``. A user who
    picks AdamW for its weight decay silently gets none."""
    from trainlab.train import Trainer

    cfg = small_config(optim={"name": "adamw", "lr": 0.01}, train={"epochs": 1})
    assert "weight_decay" not in cfg.optim.model_fields_set  # the user did not set it
    trainer = Trainer(cfg, device="cpu")
    assert trainer.optimizer.param_groups[0]["weight_decay"] == pytest.approx(1e-2)
