"""Adversarial review: runs of user modules and user data, resumed from Python."""

from __future__ import annotations

import shutil

import pytest
import torch
from torch import nn

from conftest import Killed, kill_after_checkpoint, small_config
from trainlab.errors import UserError
from trainlab.train import resume, train


def _module(act: type[nn.Module] = nn.ReLU, hidden: int = 16) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), act(), nn.Linear(hidden, 10))


def _killed_run(tmp_path, monkeypatch, model_fn):
    """A 2-model run of a user module on digits, killed after its first checkpoint."""
    cfg = small_config(population={"seeds": [0, 1]}, train={"epochs": 3, "batch_size": 128})
    orig = kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        train(cfg, model=model_fn(), out=tmp_path / "run", progress=False, device="cpu")
    from trainlab.runs import RunDir

    monkeypatch.setattr(RunDir, "save_checkpoint", orig)
    return tmp_path / "run"


def test_resume_with_differently_shaped_module_names_the_module_not_config_yaml(
    tmp_path, monkeypatch
):
    """``resume(dir, model=...)`` of a run trained on a user module, given a module of another
    architecture, must refuse in words that point at the module passed in. Today it says the
    checkpoint "does not match config.yaml" and tells the user to "restore the run's
    config.yaml" -- but config.yaml is untouched and restoring it cannot help; the user is sent
    hunting for an edit that never happened."""
    run = _killed_run(tmp_path, monkeypatch, _module)
    with pytest.raises(UserError) as exc:
        resume(run, model=_module(hidden=8), progress=False)
    msg = str(exc.value)
    assert "restore the run's config.yaml" not in msg, msg
    assert "module" in msg or "model=" in msg, msg


def test_resume_of_builtin_run_refuses_a_module_passed_in(tmp_path):
    """A run trained on its config's model (no module passed) resumed with ``model=`` must be
    refused as the symmetric ``dataset=`` case is ("trained on its config's data ...; resume it
    without dataset="). Today nothing checks it: the module is built into the trainer and the
    failure surfaces as a state-dict mismatch blamed on config.yaml ("restore the run's
    config.yaml"), which is untouched; a module whose keys happen to match would be resumed
    silently while population.json still says custom_model: false."""
    cfg = small_config(train={"epochs": 1, "batch_size": 256})
    train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    with pytest.raises(UserError) as exc:
        resume(tmp_path / "run", model=_module(), progress=False)
    msg = str(exc.value)
    assert "restore the run's config.yaml" not in msg, msg
    assert "model" in msg, msg


def test_resume_refuses_a_different_module_with_the_same_parameters(tmp_path, monkeypatch):
    """A run trained on a user module needs *the same module* back (docs/ARCHITECTURE.md: "a
    run trained on a module or dataset passed in needs it again"), and resume promises the
    weights an uninterrupted run reaches. A dataset passed in is fingerprinted (sha256 in
    population.json) so a different one is refused; a module is not fingerprinted at all, so a
    module with the same parameter shapes but another computation (Tanh for ReLU) is resumed
    silently and the run directory mixes two different models' trajectories under one
    metrics.jsonl/summary. It must be refused (e.g. by recording the module's class/structure)."""
    run = _killed_run(tmp_path, monkeypatch, _module)
    shutil.copytree(run, tmp_path / "copy")
    with pytest.raises(UserError):
        resume(tmp_path / "copy", model=_module(act=nn.Tanh), progress=False)
