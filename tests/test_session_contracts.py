"""Regressions a review of this session's changes found: uniform's option through config.yaml
and resume, and building a trainer leaves torch's CUDA generators alone."""

from __future__ import annotations

import pytest
import torch
import yaml

from conftest import small_config
from trainlab.config import load_config, with_factory_defaults
from trainlab.train import Trainer, resume, train


def _first_weight(trainer: Trainer) -> torch.Tensor:
    return next(p for n, p in trainer.pop.net.named_parameters() if n.endswith("weight"))


def test_a_uniform_init_run_keeps_its_option_through_config_yaml_and_resume(tmp_path):
    """init 'uniform' takes ``a`` (U(-a, a)); the run's config.yaml (with the factory defaults
    written out) must describe the same init and resume. An alias ``bound`` next to the
    written-out default ``a`` made the run's own config.yaml refuse to load; ``bound`` is now
    refused with a hint instead of accepted."""
    cfg = small_config(init={"scheme": "uniform", "a": 0.05}, train={"epochs": 1})
    w = _first_weight(Trainer(with_factory_defaults(cfg), device="cpu"))
    assert 0.02 < float(w.detach().abs().max()) <= 0.05
    run = tmp_path / "run"
    train(cfg, out=run, device="cpu", progress=False)
    path = run / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    assert raw["init"]["a"] == 0.05 and "bound" not in raw["init"]
    raw["train"]["epochs"] = 2
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    load_config(path)
    with pytest.warns(UserWarning):
        resume(run, device="cpu", progress=False)
    with pytest.raises(ValueError, match="no option 'bound'"):
        Trainer(small_config(init={"scheme": "uniform", "bound": 0.05}), device="cpu")


def test_building_a_trainer_leaves_the_cuda_generators_alone(monkeypatch):
    """The trainer builds its template 'from a fixed seed and leave[s] the caller's stream as it
    was' (train.py _build_model; lr_find/train leave torch's global generators alone). It uses
    ``torch.manual_seed`` inside ``fork_rng(devices=[])``: ``torch.manual_seed`` also reseeds
    every CUDA generator (``torch.cuda.manual_seed_all``), which fork_rng(devices=[]) does not
    restore; on a CUDA machine every Trainer() resets the user's CUDA stream to a fixed seed.
    Seed only the CPU generator (``torch.default_generator.manual_seed``) inside the fork."""
    calls: list[int] = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    Trainer(small_config(), device="cpu")
    assert calls == [], "Trainer() reseeded torch's CUDA generators"
