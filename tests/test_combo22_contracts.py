"""Review combo22: feature combinations of `trainlab train` configs (schedules x population
variants/grid, --set on a Config, model.dropout on built-in models)."""

from __future__ import annotations

import pytest
import torch

from trainlab.config import ConfigError, as_config, parse_config
from trainlab.errors import UserError
from trainlab.train import Trainer


def _cfg(**sections):
    base = {
        "data": {"name": "spirals", "options": {"n_samples": 120}},
        "model": {"name": "mlp", "hidden": [4]},
        "train": {"epochs": 2, "batch_size": 50},
    }
    base.update(sections)
    return base


# A schedule option that is not a number (`interval`, `mode`, `anneal_strategy`) set alike by
# every variant is one value for the whole population, as `optim.nesterov: true` in every
# variant is (train._per_model collapses equal values). config.schedule_kwargs turns every
# `schedule.*` override into a K-list, and _Params.choice then reads str(['step', 'step']):
# "interval must be one of epoch, step, got "['step', 'step']"" although 'step' is one of them.
# Expected: the population trains with interval 'step' (lr = base * 0.1**step with
# step_size 1).
def test_schedule_choice_set_alike_by_every_variant_trains():
    cfg = parse_config(
        _cfg(
            schedule={"name": "step", "step_size": 1},
            population={
                "variants": [
                    {"schedule.interval": "step", "optim.lr": 0.1},
                    {"schedule.interval": "step", "optim.lr": 0.01},
                ]
            },
        )
    )
    t = Trainer(cfg)
    lr = t.schedule(3)
    assert torch.allclose(lr, torch.tensor([0.1, 0.01], dtype=lr.dtype) * 0.1**3)


# Varied per model, a schedule choice is refused (one schedule per population), but the message
# says "interval must be one of epoch, step, got "['step', 'epoch']"": both values ARE valid
# choices; what is wrong is that it varies per model. Expected: a ConfigError that says the
# key cannot vary per model (as optim's "differs between models ... only numbers can vary").
def test_schedule_choice_varied_per_model_says_it_cannot_vary():
    cfg = parse_config(
        _cfg(
            schedule={"name": "step", "step_size": 1},
            population={
                "variants": [{"schedule.interval": "step"}, {"schedule.interval": "epoch"}]
            },
        )
    )
    with pytest.raises(ConfigError) as err:
        Trainer(cfg)
    msg = str(err.value)
    assert "must be one of" not in msg, msg
    assert "per model" in msg or "vary" in msg or "differs" in msg, msg


# multistep's `milestones` (a list of epochs) given alike in every variant: schedule_kwargs
# makes [[1], [1]] of it and _Params.ints fails with "milestones must be a list of ints",
# although [1] is one. Expected: the population trains, lr drops by gamma after epoch 1.
def test_multistep_milestones_set_alike_by_every_variant_trains():
    cfg = parse_config(
        _cfg(
            schedule={"name": "multistep"},
            population={
                "variants": [
                    {"schedule.milestones": [1], "optim.lr": 0.1},
                    {"schedule.milestones": [1], "optim.lr": 0.01},
                ]
            },
        )
    )
    t = Trainer(cfg)
    spe = t.steps_per_epoch
    assert torch.allclose(t.schedule(spe - 1), torch.tensor([0.1, 0.01], dtype=torch.float64))
    assert torch.allclose(t.schedule(spe), torch.tensor([0.01, 0.001], dtype=torch.float64))


# The config's `schedule.milestones: [1]` plus a variant overriding it: schedule_kwargs sees
# that the section's value is a list and says "schedule.milestones is a list of per-model values
# and also varied by population variants/grid" - but [1] is the milestones list, not per-model
# values. Whether per-model milestones are supported or refused, the message must not call the
# milestones per-model values (nor claim [2] is not a list of ints).
def test_multistep_milestones_override_message_is_not_about_per_model_lists():
    cfg = parse_config(
        _cfg(
            schedule={"name": "multistep", "milestones": [1]},
            population={"variants": [{"schedule.milestones": [2]}, {}]},
        )
    )
    try:
        Trainer(cfg)
    except ConfigError as err:
        msg = str(err)
        assert "list of per-model values" not in msg, msg
        assert "must be a list of ints" not in msg, msg


# `schedule.warmup_steps` given alike (2) by every variant is "one number shared by all models",
# yet it is refused with "warmup_steps must be one number shared by all models, got [2, 2]
# (per model)". Expected: it trains with a 2-step warmup (cosine's first value is the base lr,
# so step 1 runs at half of it).
def test_warmup_steps_set_alike_by_every_variant_trains():
    cfg = parse_config(
        _cfg(
            schedule={"name": "cosine"},
            population={
                "variants": [
                    {"schedule.warmup_steps": 2, "optim.lr": 0.1},
                    {"schedule.warmup_steps": 2, "optim.lr": 0.01},
                ]
            },
        )
    )
    t = Trainer(cfg)
    assert torch.allclose(t.schedule(1), torch.tensor([0.05, 0.005], dtype=torch.float64))


# config.as_config(Config, sets) re-parses config.model_dump(), which writes every default out,
# so optim.weight_decay - left out, "the optimizer's own default (adamw: 1e-2)" (README) - is
# frozen at the old optimizer's value: a Config with adam and --set optim.name=adamw trains
# AdamW with weight decay 0 (and adamw -> sgd keeps 0.01), where the same dict or YAML file
# with the same --set gives 0.01 (and 0). trainlab.diagnostics.run.diagnose(config, sets=...)
# takes this path. Expected: the same config as the dict/YAML path gives.
def test_set_on_a_config_object_keeps_the_optimizers_default_weight_decay():
    raw = {"optim": {"name": "adam"}}
    assert as_config(raw, ["optim.name=adamw"]).optim.weight_decay == 0.01  # (the dict path)
    assert as_config(parse_config(raw), ["optim.name=adamw"]).optim.weight_decay == 0.01
    raw = {"optim": {"name": "adamw"}}
    assert as_config(parse_config(raw), ["optim.name=sgd"]).optim.weight_decay == 0.0


# A built-in mlp without hidden layers has no dropout module (dropout follows each hidden
# activation), so model.dropout 0.1 is refused - with "add nn.Dropout modules to the model (or
# build it with dropout > 0)": the config already builds it with dropout 0.1 and a config user
# cannot add modules. Expected: the message names the real cause (the mlp has no hidden layer)
# instead of a fix that is already applied.
def test_dropout_on_mlp_without_hidden_layers_names_the_cause():
    cfg = parse_config(_cfg(model={"name": "mlp", "hidden": [], "dropout": 0.1}))
    with pytest.raises(UserError) as err:
        Trainer(cfg)
    msg = str(err.value)
    assert "build it with dropout > 0" not in msg, msg
    assert "hidden" in msg, msg
