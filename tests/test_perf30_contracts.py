"""perf30: overhead in the CPU hot loop of the trainer (structural checks, never timings)."""

from __future__ import annotations

import torch

from trainlab.optim import create_optimizer


# What is wrong: trainlab/optim/base.py picks, for an lr grid on the CPU, between one
# lr-scaled fused call (lr_scaled) and one fused call *per run of equal values* (K calls for K
# distinct lrs) with FUSED_MIN_NUMEL = 16384 elements per model. That threshold was set against
# the `_foreach` broadcast step ("below this many elements per model, a run-per-call fused step
# loses to one broadcast step"), not against the lr-scaled call it now chooses between: measured
# here (1 thread, trainer malloc settings, best of 9 interleaved rounds, Adam, MLP 64-H-H-10,
# per-model lrs logspace(1e-4, 1e-2)), the K calls are 1.73x (K=10) / 2.77x (K=100) slower at
# 16.5k params/model, 1.42x / 1.78x at 26k, 1.51x / 1.28x at 51k, and break even only at ~85k
# (1.00x / 0.93x). In the trainer (digits, lr grid) that is 11% of the whole step at K=100,
# H=96 (18.9 vs 17.0 ms/step) and 4% at K=10, H=128.
# Expected: a population of models of ~26k parameters whose only per-model value is the lr takes
# one fused kernel call per step, not one per model (the call count must not grow with K).
# Fix: calibrate the lr-scaled choice on its own crossover (e.g. a separate
# LR_SCALED_MAX_NUMEL ~ 64k), keeping FUSED_MIN_NUMEL for the per-run vs _foreach choice.
def test_lr_grid_of_mid_size_models_takes_one_fused_call_per_step(monkeypatch):
    calls = []
    real = torch._fused_adam_

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "_fused_adam_", counting)
    k, h = 8, 128  # 64*128 + 128 + 128*128 + 128 + 10*128 + 10 = 26,122 parameters per model
    gen = torch.Generator().manual_seed(0)
    shapes = [(h, 64), (h,), (h, h), (h,), (10, h), (10,)]
    params = [torch.randn(k, *s, generator=gen) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)
    lr = torch.logspace(-4, -2, k, dtype=torch.float64)  # an lr grid: every other value shared
    opt = create_optimizer("adam", params, lr=lr)
    opt.step()
    calls.clear()
    opt.step()
    assert len(calls) == 1, f"{len(calls)} fused Adam calls in one step of K={k} models"
