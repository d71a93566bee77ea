"""diff28 review: run_pretrain re-validating a PretrainConfig edited in place (run.py _given)."""

from __future__ import annotations

import pytest

import trainlab.pretrain.run as run_mod
from trainlab.pretrain.run import PretrainConfig, PretrainModel, run_pretrain


class _Stop(Exception):
    pass


def _validated_by_run_pretrain(cfg, monkeypatch, tmp_path, sets=None):
    """The config run_pretrain validated (stopped before any data is loaded)."""
    seen = {}

    def fake_data(c):
        seen["cfg"] = c
        raise _Stop

    monkeypatch.setattr(run_mod, "_data", fake_data)
    with pytest.raises(_Stop):
        run_pretrain(cfg, out=tmp_path / "run", sets=sets)
    return seen["cfg"]


# run_pretrain now re-validates a config edited in place (through _given), but _given drops a
# filled default only when it is a default of the *current* kind: after `cfg.model.kind = "sdae"`
# the rbm's filled n_components/visible (never written by the user, not in model_fields_set) are
# kept and refused: "model.n_components does not apply to model.kind 'sdae'; remove it". The same
# change as `--set model.kind=sdae` works and takes the sdae defaults, so the in-place edit must
# too (_given should keep only the keys in model_fields_set, i.e. the given ones).
def test_in_place_kind_change_takes_the_new_kinds_defaults(monkeypatch, tmp_path):
    cfg = PretrainConfig.model_validate({"train": {"n_iter": 1}})
    cfg.model.kind = "sdae"
    got = _validated_by_run_pretrain(cfg, monkeypatch, tmp_path)
    via_set = _validated_by_run_pretrain(
        PretrainConfig.model_validate({"train": {"n_iter": 1}}),
        monkeypatch,
        tmp_path,
        sets=["model.kind=sdae"],
    )
    assert got.model == via_set.model  # layers [256, 256], corruption 0.25, no n_components
    assert got.train == via_set.train  # sdae's lr 1e-3, batch 32; n_iter 1 kept


# The same with the model section replaced in place: the train section still holds the rbm's
# filled k/method/momentum/weight_decay (not given), which _given keeps for an sdae and the
# validation refuses ("train.k does not apply to model.kind 'sdae'").
def test_replaced_model_section_does_not_keep_the_old_kinds_train_defaults(monkeypatch, tmp_path):
    cfg = PretrainConfig()
    cfg.model = PretrainModel(kind="sdae")
    got = _validated_by_run_pretrain(cfg, monkeypatch, tmp_path)
    assert got.model.kind == "sdae" and got.train.k is None and got.train.momentum is None
    assert got.train.learning_rate == 1e-3 and got.train.batch_size == 32
