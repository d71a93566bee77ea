"""The population optimizers' execution paths (``_foreach``, the fused CPU kernels per run of
equal values, the lr-scaled fused step) against K separate ``torch.optim`` runs, step for step:
SGD's per-model momentum with a shared dampening in float64."""

from __future__ import annotations

import pytest
import torch

from trainlab.optim import create_optimizer

F64 = torch.float64
K = 3
SHAPES = [(7, 5), (7,)]  # one small model (< FUSED_MIN_NUMEL parameters)
STEPS = 20


def _problem():
    g = torch.Generator().manual_seed(0)
    init = [torch.randn(K, *s, generator=g, dtype=F64) * 0.5 for s in SHAPES]
    curv = [10.0 ** (2 * torch.rand(K, *s, generator=g, dtype=F64) - 1) for s in SHAPES]
    noise = [torch.randn(STEPS, K, *s, generator=g, dtype=F64) * 0.3 for s in SHAPES]
    return init, curv, noise


def _grad(theta, curv, noise):
    """Elementwise, so a model's gradient is the same bits alone or inside the stack."""
    return curv * theta + torch.sin(3.0 * theta) + noise


@pytest.mark.parametrize("fused", [False, None], ids=["foreach", "auto"])
def test_sgd_per_model_momentum_with_a_shared_dampening_matches_torch_in_float64(fused):
    """SGD with a per-model momentum grid and one shared, non-zero dampening (a momentum sweep
    with ``dampening`` set once in the config) must equal K separate ``torch.optim.SGD`` runs to
    float64 rounding, on the ``_foreach`` path as on the fused one. The module docstring of
    ``optim/base.py`` promises that per-model derived values (``1 − τ``) are computed in float64
    and rounded once to the parameters' dtype; in ``SGD._momentum`` ``torch.where(mom == 0, 1.0,
    1.0 - damp)`` with two Python scalars yields a *float32* tensor, so ``1 − τ = 0.7`` becomes
    0.699999988: every float64 momentum step is off by ~2e-8 relative, and a model's trajectory
    depends on whether its neighbours share its momentum (which decides the path) — for small
    models the default (auto) path is exactly this one."""
    init, curv, noise = _problem()
    lr = [0.05, 0.02, 0.03]
    momentum = [0.9, 0.5, 0.8]
    dampening = 0.3

    ps = [p.clone() for p in init]
    kw = {} if fused is None else {"fused": fused}
    opt = create_optimizer(
        "sgd", ps, lr=torch.tensor(lr, dtype=F64), momentum=torch.tensor(momentum, dtype=F64),
        dampening=dampening, **kw,
    )  # fmt: skip
    for s in range(STEPS):
        for p, a, xi in zip(ps, curv, noise, strict=True):
            p.grad = _grad(p, a, xi[s])
        opt.step()

    for k in range(K):
        ref = [p[k].clone() for p in init]
        topt = torch.optim.SGD(ref, lr=lr[k], momentum=momentum[k], dampening=dampening)
        for s in range(STEPS):
            for p, a, xi in zip(ref, curv, noise, strict=True):
                p.grad = _grad(p, a[k], xi[s, k])
            topt.step()
        for ours, theirs in zip(ps, ref, strict=True):
            rel = ((ours[k] - theirs).abs() / theirs.abs().clamp_min(1e-3)).max().item()
            assert rel <= 1e-12, f"model {k}: relative difference {rel:.3e} from torch.optim.SGD"
