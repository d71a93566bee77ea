"""Adversarial review of per-model gradient clipping (``trainlab.optim.clip``): per-model
thresholds that torch accepts, thresholds made under ``torch.inference_mode()``, and the
documented re-check of a per-model threshold after it changes in place."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import clip_grad_norm_, clip_grad_value_

K = 4
SHAPES = [(5, 3), (5,), (2, 5)]
F64 = torch.float64


def _params(scale: float = 3.0) -> list[torch.Tensor]:
    """Stacked ``(K, ...)`` parameters with random float64 gradients of size ~``scale``."""
    g = torch.Generator().manual_seed(0)
    out = []
    for s in SHAPES:
        p = torch.zeros(K, *s, dtype=F64)
        p.grad = torch.randn(K, *s, generator=g, dtype=F64) * scale
        out.append(p)
    return out


def _torch_clip_norm(grads: list[torch.Tensor], max_norm: float) -> tuple[torch.Tensor, list]:
    """``torch.nn.utils.clip_grad_norm_`` on one model's gradients alone."""
    ts = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for t, g in zip(ts, grads, strict=True):
        t.grad = g.clone()
    norm = torch.nn.utils.clip_grad_norm_(ts, max_norm)
    return norm, [t.grad for t in ts]


def test_per_model_max_norm_of_inf_leaves_that_model_unclipped_as_torch_does():
    """``clip_grad_norm_`` promises a ``max_norm`` that is "a number or a (K,) tensor" and that
    it "matches ``torch.nn.utils.clip_grad_norm_`` called on each model's parameters alone";
    a plain ``max_norm=inf`` is accepted (no clipping), as torch accepts it. A per-model
    ``inf`` is the natural way to compare clipped and unclipped models inside one population
    (what the clipping study is about), yet the (K,) tensor path refuses it with a
    ConfigError ("must be finite"), although inf is > 0 and cannot flip a gradient's sign."""
    ps = _params()
    ref = [[p.grad[k].clone() for p in ps] for k in range(K)]
    max_norm = torch.tensor([1.0, math.inf, 0.5, math.inf], dtype=F64)
    norms, clipped = clip_grad_norm_(ps, max_norm, k=K)
    for k in range(K):
        tn, tg = _torch_clip_norm(ref[k], float(max_norm[k]))
        torch.testing.assert_close(norms[k], tn, rtol=1e-12, atol=0)
        for p, t in zip(ps, tg, strict=True):
            torch.testing.assert_close(p.grad[k], t, rtol=1e-12, atol=0)
    assert clipped.tolist() == [True, False, True, False]


def test_per_model_clip_value_of_inf_leaves_that_model_unclamped():
    """``clip_grad_value_`` takes "``value`` a number or ``(K,)``, each > 0" and accepts a
    plain ``inf`` (nothing clamped, as ``torch.nn.utils.clip_grad_value_(…, inf)``). A per-model
    ``inf`` (clamp some models, leave others alone) is refused with a ConfigError instead of
    leaving those models' gradients untouched."""
    ps = _params()
    ref = [p.grad.clone() for p in ps]
    value = torch.tensor([0.5, math.inf, 1.0, math.inf], dtype=F64)
    clipped = clip_grad_value_(ps, value)
    for p, r in zip(ps, ref, strict=True):
        for k in range(K):
            assert torch.equal(p.grad[k], r[k].clamp(-float(value[k]), float(value[k])))
    assert clipped.tolist() == [True, False, True, False]


@pytest.mark.parametrize("fn", ["norm", "value"])
def test_thresholds_made_under_inference_mode_are_accepted(fn):
    """A ``(K,)`` threshold computed in ``torch.inference_mode()`` (e.g. from gradient-norm
    statistics gathered in an evaluation block) is an ordinary tensor of valid values, and
    ``torch.nn.utils.clip_grad_norm_`` would clip with it. trainlab's once-only positivity
    check reads ``value._version``, which inference tensors do not have: the call crashes with
    ``RuntimeError: Inference tensors do not track version counter`` instead of clipping."""
    ps = _params()
    ref = [[p.grad[k].clone() for p in ps] for k in range(K)]
    with torch.inference_mode():
        thr = torch.tensor([1.0, 0.5, 2.0, 0.25], dtype=F64)
    if fn == "norm":
        clip_grad_norm_(ps, thr, k=K)
        for k in range(K):
            _, tg = _torch_clip_norm(ref[k], float(thr[k]))
            for p, t in zip(ps, tg, strict=True):
                torch.testing.assert_close(p.grad[k], t, rtol=1e-12, atol=0)
    else:
        clip_grad_value_(ps, thr)
        for k in range(K):
            for p, r in zip(ps, ref[k], strict=True):
                assert torch.equal(p.grad[k], r.clamp(-float(thr[k]), float(thr[k])))


@pytest.mark.parametrize("how", ["numpy", "data"])
def test_a_per_model_max_norm_made_negative_in_place_never_flips_a_gradient(how):
    """The clip module promises that a per-model threshold is "checked to be positive once,
    the first time that tensor is seen and again after it changes in place", because "a
    negative one would flip the gradients' sign". The re-check keys on the tensor's autograd
    version counter, which in-place writes through the numpy array it shares memory with
    (``torch.from_numpy``: a user keeping per-model thresholds in numpy) or through ``.data``
    do not move. After such a write to −0.5, model 2's gradient is silently multiplied by a
    negative factor: gradient *ascent*, no error. Either refusing the value or not reversing
    the gradient keeps the promise; reversing it does not."""
    arr = np.array([1.0, 2.0, 3.0, 4.0])
    mx = torch.from_numpy(arr)
    clip_grad_norm_(_params(), mx, k=K)  # valid: checked and remembered
    if how == "numpy":
        arr[2] = -0.5
    else:
        mx.data[2] = -0.5
    assert float(mx[2]) == -0.5
    ps = _params()
    before = [p.grad[2].clone() for p in ps]
    try:
        clip_grad_norm_(ps, mx, k=K)
    except ConfigError:
        return  # refused: the promise is kept
    dot = sum(float((p.grad[2] * b).sum()) for p, b in zip(ps, before, strict=True))
    assert dot >= 0, f"model 2's gradient was reversed (<g_after, g_before> = {dot:.3g})"
