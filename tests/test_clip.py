"""Per-model gradient clipping against ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``."""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import clip_grad_norm_, clip_grad_value_

K = 5
SHAPES = [(4, 3), (4,), (2, 4)]


def _params(scale: torch.Tensor) -> list[torch.Tensor]:
    """Stacked params whose gradients have per-model scale ``scale`` ``(K,)``."""
    g = torch.Generator().manual_seed(0)
    out = []
    for s in SHAPES:
        p = torch.zeros(K, *s, dtype=torch.float64)
        p.grad = torch.randn(K, *s, generator=g, dtype=torch.float64) * scale.view(
            -1, *[1] * len(s)
        )
        out.append(p)
    return out


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("per_model_max", [False, True])
def test_clip_norm_matches_torch_per_model(norm_type, per_model_max):
    scale = torch.tensor([0.01, 0.1, 1.0, 10.0, 100.0], dtype=torch.float64)
    max_norm = torch.tensor([1.0, 0.5, 2.0, 1.0, 1e4], dtype=torch.float64)
    ps = _params(scale)
    ref = [[p.grad[k].clone() for p in ps] for k in range(K)]
    mx = max_norm if per_model_max else 1.0
    norms, clipped = clip_grad_norm_(ps, mx, k=K, norm_type=norm_type)
    assert norms.shape == (K,) and clipped.dtype == torch.bool
    for k in range(K):
        ts = [torch.zeros_like(g, requires_grad=True) for g in ref[k]]
        for t, g in zip(ts, ref[k], strict=True):
            t.grad = g.clone()
        m = float(max_norm[k]) if per_model_max else 1.0
        tn = torch.nn.utils.clip_grad_norm_(ts, m, norm_type=norm_type)
        torch.testing.assert_close(norms[k], tn, rtol=1e-12, atol=0)
        assert bool(clipped[k]) == bool(tn > m - 1e-6)
        for p, t in zip(ps, ts, strict=True):
            torch.testing.assert_close(p.grad[k], t.grad, rtol=1e-12, atol=0)
    # models with small gradients are untouched, large ones are clipped
    if norm_type == 2.0:
        assert clipped.tolist() == (
            [False, False, True, True, False] if per_model_max else [False, False, True, True, True]
        )


def test_clip_value_matches_torch_and_per_model():
    scale = torch.tensor([0.01, 0.1, 1.0, 10.0, 100.0], dtype=torch.float64)
    ps = _params(scale)
    ref = [p.grad.clone() for p in ps]
    clip_grad_value_(ps, 0.5)
    for p, r in zip(ps, ref, strict=True):
        t = torch.zeros_like(r, requires_grad=True)
        t.grad = r.clone()
        torch.nn.utils.clip_grad_value_([t], 0.5)
        assert torch.equal(p.grad, t.grad)
    ps = _params(scale)
    v = torch.tensor([1.0, 0.1, 0.2, 3.0, 0.01], dtype=torch.float64)
    clip_grad_value_(ps, v)
    for p, r in zip(ps, ref, strict=True):
        for k in range(K):
            assert torch.equal(p.grad[k], r[k].clamp(-float(v[k]), float(v[k])))


def test_bad_thresholds():
    ps = _params(torch.ones(K, dtype=torch.float64))
    with pytest.raises(ConfigError, match="max_norm must be > 0"):
        clip_grad_norm_(ps, 0.0, k=K)
    with pytest.raises(ConfigError, match="shape"):
        clip_grad_norm_(ps, torch.ones(3), k=K)
    with pytest.raises(ConfigError, match="not stacked"):
        clip_grad_norm_(ps, 1.0, k=K + 1)
    with pytest.raises(ConfigError, match="clip value must be > 0"):
        clip_grad_value_(ps, -1.0)


def test_grad_norms_of_a_generator_without_gradients_are_zeros():
    from trainlab.optim import grad_norms

    ps = [torch.zeros(K, 3, requires_grad=True)]
    assert torch.equal(grad_norms((p for p in ps), k=K), torch.zeros(K))
    assert torch.equal(grad_norms(iter([]), k=K), torch.zeros(K))
    norms, clipped = clip_grad_norm_((p for p in ps), 1.0, k=K)
    assert torch.equal(norms, torch.zeros(K)) and not clipped.any()


def test_per_model_clip_values_must_be_positive():
    ps = _params(torch.ones(K, dtype=torch.float64))
    ref = [p.grad.clone() for p in ps]
    bad = torch.tensor([1.0, -0.1, 0.2, 3.0, 0.5], dtype=torch.float64)
    with pytest.raises(ConfigError, match="clip value must be > 0 for every model"):
        clip_grad_value_(ps, bad)
    for p, r in zip(ps, ref, strict=True):
        assert torch.equal(p.grad, r)  # nothing clamped
    good = torch.full((K,), 0.5, dtype=torch.float64)
    clip_grad_value_(ps, good)
    good[2] = float("nan")  # changed in place after it was checked: checked again
    with pytest.raises(ConfigError, match="must be > 0"):
        clip_grad_value_(ps, good)


def test_per_model_max_norms_must_be_positive():
    """A negative per-model max_norm would flip that model's gradients: refused, nothing
    scaled."""
    ps = _params(torch.ones(K, dtype=torch.float64))
    ref = [p.grad.clone() for p in ps]
    bad = torch.tensor([1.0, 0.5, -0.2, 3.0, 0.5], dtype=torch.float64)
    with pytest.raises(ConfigError, match="max_norm must be > 0 for every model"):
        clip_grad_norm_(ps, bad, k=K)
    for p, r in zip(ps, ref, strict=True):
        assert torch.equal(p.grad, r)
    norms, clipped = clip_grad_norm_(ps, bad.abs(), k=K)
    assert clipped.any()


def test_per_model_thresholds_follow_the_gradients_device():
    """A ``(K,)`` max_norm / clip value on the CPU clips gradients on another device (``meta``
    stands in for CUDA here): it is moved to the gradients, not mixed with them."""
    p = torch.zeros(K, 3, device="meta")
    p.grad = torch.zeros(K, 3, device="meta")
    norms, clipped = clip_grad_norm_([p], torch.ones(K), k=K)
    assert norms.device.type == clipped.device.type == "meta"
    clip_grad_value_([p], torch.ones(K))
    assert p.grad.device.type == "meta"
