"""Review clip33: per-model gradient clipping (trainlab.optim.clip) against torch."""

from __future__ import annotations

import torch

from trainlab.optim import clip_grad_norm_


# clip.py clip_grad_norm_: the docstring promises torch.nn.utils.clip_grad_norm_'s numbers per
# model, but for 16-bit gradients whose norm passes their dtype's range. With a mix of 16-bit and
# float32 gradients (a bf16 layer beside float32 ones) the `len(dtypes) == 1` test skips the
# "torch's own norms" path, so the coefficient comes from the float32-widened norm, while torch
# computes each parameter's norm in its own dtype (bf16-rounded) and stacks them: every model's
# clipped gradients differ from torch's (by ~1e-3 relative here). Expected: each model's
# gradients equal torch's clip_grad_norm_ on that model's parameters alone, bit for bit (they do
# for all-bf16, all-float16 and all-float32 gradients).
def test_mixed_bf16_float32_gradients_are_clipped_as_torch_clips_each_model():
    gen = torch.Generator().manual_seed(0)
    k = 3
    ps = [
        torch.zeros(k, 7, 11, dtype=torch.bfloat16, requires_grad=True),
        torch.zeros(k, 13, dtype=torch.float32, requires_grad=True),
    ]
    for p in ps:
        p.grad = (torch.randn(p.shape, generator=gen) * 3).to(p.dtype)
    grads = [p.grad.clone() for p in ps]
    clip_grad_norm_(ps, 1.0, k=k)
    for i in range(k):
        qs = [torch.zeros(p.shape[1:], dtype=p.dtype, requires_grad=True) for p in ps]
        for q, g in zip(qs, grads, strict=True):
            q.grad = g[i].clone()
        torch.nn.utils.clip_grad_norm_(qs, 1.0)
        for p, q in zip(ps, qs, strict=True):
            assert torch.equal(p.grad[i], q.grad), (i, p.dtype, (p.grad[i] - q.grad).abs().max())
