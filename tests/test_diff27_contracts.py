"""diff27 review: pretrain configs given as PretrainConfig objects (run.py _given/_resolve_kind)."""

from __future__ import annotations

import pytest

from trainlab.errors import ConfigError
from trainlab.pretrain.run import (
    PretrainConfig,
    PretrainTrain,
    _given,
    load_pretrain_config,
    run_pretrain,
)


# A key written with no value (`momentum:` -> null) is "left out" for the CLI: null is filled with
# the kind's default and `--set model.kind=sdae` / `--set model.visible=gaussian` re-resolve it.
# But _given keeps every key in model_fields_set, and an explicit null is in it although
# _resolve_kind filled its value: the same YAML loaded and passed to run_pretrain(cfg, sets=...)
# keeps the filled rbm defaults (momentum 0.0 -> "train.momentum does not apply to 'sdae'";
# learning_rate 0.06 instead of the Gaussian rbm's 0.01). _given must equal the left-out YAML's.
def test_given_treats_explicit_null_as_left_out(tmp_path):
    with_null = tmp_path / "null.yaml"
    with_null.write_text("train:\n  learning_rate:\n  momentum:\n  n_iter: 2\n")
    left_out = tmp_path / "out.yaml"
    left_out.write_text("train:\n  n_iter: 2\n")
    assert _given(load_pretrain_config(with_null)) == _given(load_pretrain_config(left_out))
    # as the CLI (YAML + --set) resolves it
    cli = load_pretrain_config(with_null, ["model.visible=gaussian"])
    assert cli.train.learning_rate == 0.01


# _resolve_kind writes the kind's defaults into the section object it was given
# (part.__dict__[key] = ...); pydantic does not copy a model instance passed as a field, so the
# caller's PretrainTrain is changed: reused for an sdae it now holds the rbm's k/momentum and is
# refused ("train.k does not apply to model.kind 'sdae'"). Validation must not change its input.
def test_resolve_kind_does_not_change_a_passed_section():
    t = PretrainTrain(n_iter=2)
    PretrainConfig(train=t)
    assert t.learning_rate is None and t.momentum is None
    sdae = PretrainConfig.model_validate({"model": {"kind": "sdae"}, "train": t})
    assert sdae.train.learning_rate == 1e-3 and sdae.train.n_iter == 2


# PretrainConfig has no validate_assignment and run_pretrain(cfg) without sets uses cfg as is:
# an in-place `cfg.train.n_iter = 0` (ge=1) reaches the estimators and ends in an IndexError
# traceback, where the same value in YAML or via --set is a ConfigError naming train.n_iter
# (run_pretrain(cfg, sets=[...]) re-validates; without sets it should too).
def test_run_pretrain_validates_a_config_edited_in_place(tmp_path):
    cfg = PretrainConfig.model_validate({"train": {"n_iter": 1}})
    cfg.train.n_iter = 0
    with pytest.raises(ConfigError, match="n_iter"):
        run_pretrain(cfg, out=tmp_path / "run")
