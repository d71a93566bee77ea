"""Review diff33d: today's changes (run lock, fused-kernel gate, last-step divergence)."""

from __future__ import annotations

import json

import pytest
import torch

import trainlab.optim.base as optim_base
import trainlab.optim.sgd as optim_sgd
from conftest import full_and_resumed_longer
from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer


# Wrong: with early stopping on, a model whose last update of epoch 2 overflows its weights
# (finite training loss, val/test loss NaN/Inf after the step) is reported differently
# depending on train.epochs. A 2-epoch run flags it "nan" at step 2 (_stop_diverged_at_the_end
# runs before _early_stopping); the uninterrupted 4-epoch run lets _early_stopping count the
# NaN val_loss as "no improvement" (patience 1), so the model is "early_stopped" at step 2,
# with null final val/test losses and absent from nan_models, although its weights are
# non-finite. The 2-epoch run extended to 4 (README: epochs may be raised) keeps "nan", so the
# extended run differs from the uninterrupted one. Right: the same model, same updates, the same
# outcome; and a model whose weights went non-finite is flagged NaN (README: "stopped and
# flagged"), not early-stopped with no final numbers. (Fix: before an early stop, check the
# model's evaluated losses as _stop_diverged_at_the_end does, at every epoch.)
def test_last_step_divergence_with_early_stopping_is_flagged_as_a_longer_run_flags(tmp_path):
    kw = dict(
        optim={"name": "sgd", "lr": 0.05},
        schedule={"name": "multistep", "interval": "step", "milestones": [1], "gamma": 1e30},
        population={"seeds": [0, 1]},
    )
    es = {"batch_size": 4096, "early_stopping_patience": 1}
    full, ext = full_and_resumed_longer(tmp_path, epochs=4, first=2, train=es, **kw)
    statuses = lambda s: [(m["status"], m["stopped_step"]) for m in s["models"]]  # noqa: E731
    assert statuses(ext.summary) == statuses(full.summary)
    for m in full.summary["models"]:
        if m["final"]["val_loss"] is None:
            assert m["status"] == "nan", f"model {m['index']}: {m['status']} with no val_loss"
    assert ext.summary["nan_models"] == full.summary["nan_models"]
    disk = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert disk["nan_models"] == full.summary["nan_models"]


def _torch_without_cpu_kernels(monkeypatch):
    """What torch 2.3 is to trainlab: torch._fused_* exist, with no CPU kernel."""
    monkeypatch.setattr(optim_base, "has_cpu_kernel", lambda name: False)
    monkeypatch.setattr(optim_sgd, "has_cpu_kernel", lambda name: False)
    optim_sgd.fused_sgd_handles_16bit.cache_clear()


@pytest.fixture
def no_cpu_kernels(monkeypatch):
    _torch_without_cpu_kernels(monkeypatch)
    yield
    optim_sgd.fused_sgd_handles_16bit.cache_clear()


# Wrong: on a torch without the fused CPU kernels (torch 2.3, which pyproject allows), SGD with
# fused=True on bfloat16 parameters is refused with "this torch's fused CPU SGD kernel leaves
# most float16/bfloat16 weights unchanged (pytorch/pytorch#191763)": fused_sgd_handles_16bit()
# returns False for "no kernel", and _fused_16bit_broken, checked before _fused_runs' kernel
# check, reports it as the torch 2.12-2.13 16-bit bug. Right: the same error float32 gets, that
# this torch has no CPU kernel torch._fused_sgd_ (the real reason; upgrading torch is the fix).
def test_fused_sgd_16bit_without_a_cpu_kernel_names_the_missing_kernel(no_cpu_kernels):
    p = torch.zeros(3, 40, dtype=torch.bfloat16, requires_grad=True)
    opt = create_optimizer("sgd", [p], lr=0.1, momentum=0.9, fused=True)
    p.grad = torch.ones_like(p)
    with pytest.raises(ConfigError) as info:
        opt.step()
    assert "_fused_sgd_" in str(info.value), str(info.value)
    assert "191763" not in str(info.value), str(info.value)


# Wrong: the missing-kernel ConfigError of fused=True is raised inside the step of the group,
# after the groups before it have been updated: PopulationOptimizer._closure_loss promises
# "every group checked before any group is updated" (_refuse_at_step checks fused=True's other
# refusals, _fusable, up front), and add_param_group says fused=True's device refusal "here,
# before a run starts, not at the first step". Here group 0 (fused unset) has stepped when
# group 1 (fused=True) raises. Right: refused before any parameter moves (at construction, or
# in _refuse_at_step).
def test_fused_true_without_a_cpu_kernel_is_refused_before_any_group_steps(no_cpu_kernels):
    a = torch.randn(3, 50, requires_grad=True)
    b = torch.randn(3, 50, requires_grad=True)
    a0 = a.detach().clone()
    try:
        opt = create_optimizer("adam", [{"params": [a]}, {"params": [b], "fused": True}], lr=0.1)
    except ConfigError:
        return  # refused at construction: fine
    a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
    with pytest.raises(ConfigError):
        opt.step()
    assert torch.equal(a.detach(), a0), "group 0 was updated before the step was refused"
