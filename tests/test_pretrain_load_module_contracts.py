"""``trainlab.pretrain.load_module``: a ``trainlab pretrain`` run's model, unrolled to fine-tune."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainlab.errors import UserError
from trainlab.pretrain import load_module
from trainlab.pretrain.run import PretrainConfig, _data, _fit_stack, run_pretrain


def _cfg(kind: str, scale: str = "minmax", **model) -> PretrainConfig:
    return PretrainConfig.model_validate(
        {
            "name": kind,
            "data": {"name": "digits", "scale": scale},
            "model": {"kind": kind, **model},
            "train": {"n_iter": 1, "batch_size": 100},
            "seeds": [3, 4],
            "device": "cpu",
        }
    )


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("dbn", {}), ("sdae", {}), ("dbn", {"visible": "gaussian", "scale": "standardize"})],
)
def test_a_stack_from_a_run_equals_the_same_stack_fitted_and_unrolled(tmp_path, kind, extra):
    # (a Gaussian first layer: its weight unrolls as W / s², as DBN.to_module folds it)
    cfg = _cfg(kind, layers=[12, 6], **extra)
    run = run_pretrain(cfg, out=tmp_path / "run")
    xtr, _, _, _ = _data(cfg)
    est, _ = _fit_stack(cfg, 4, xtr, xtr[:5])  # model 1: seed 4
    want = est.to_module(10, generator=torch.Generator().manual_seed(0))
    got = load_module(run, 10, model=1, generator=torch.Generator().manual_seed(0))
    assert list(got.state_dict()) == list(want.state_dict())
    for (name, a), b in zip(got.state_dict().items(), want.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert not torch.equal(load_module(run, 10, model=0).fc1.weight, got.fc1.weight)  # seed 3


def test_an_rbm_population_run_gives_each_models_hidden_layer(tmp_path):
    run = run_pretrain(_cfg("rbm", n_components=5), out=tmp_path / "run")
    with np.load(run / "model.npz") as z:
        w, c = z["components_1"], z["intercept_hidden_1"]
    m = load_module(run, 3, model=1)
    assert torch.equal(m.fc1.weight, torch.as_tensor(w, dtype=torch.float32))
    assert torch.equal(m.fc1.bias, torch.as_tensor(c, dtype=torch.float32))
    assert m(torch.rand(2, 64)).shape == (2, 3)


def test_load_module_refuses_what_is_not_a_finished_pretrain_run(tmp_path):
    run = run_pretrain(_cfg("rbm", n_components=5), out=tmp_path / "run")
    with pytest.raises(UserError, match="models 0 to 1"):
        load_module(run, 10, model=2)
    with pytest.raises(UserError, match="no summary.json"):
        load_module(tmp_path, 10)
    (run / "model.npz").write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(UserError, match="cannot be read"):
        load_module(run, 10)
