"""Review diff33g: defects found in this session's diff (init.lsuv_, optim.clip)."""

import warnings

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.init import lsuv_
from trainlab.optim.clip import clip_grad_norm_


# lsuv_'s as-left remeasure (_as_left -> _first_outputs) keeps a reference to each layer's
# output while the forward goes on; an in-place activation after the layer (nn.ReLU(inplace=
# True)) then overwrites it, so lsuv_ returns the variance of relu(output) (~0.34) instead of
# the layer's output variance (~0.97, what the rescaling loop measured and what m[0](x).var()
# gives), and warns about tied weights that do not exist. Expected: the returned values are the
# layers' real output variances, and no "moved ... off 1 again" warning.
def test_lsuv_as_left_variance_with_inplace_relu():
    torch.manual_seed(0)
    m = nn.Sequential(
        nn.Linear(20, 64),
        nn.ReLU(inplace=True),
        nn.Linear(64, 64),
        nn.ReLU(inplace=True),
        nn.Linear(64, 3),
    )
    x = torch.randn(256, 20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = lsuv_(m, x)
    assert not any("off 1 again" in str(w.message) for w in caught)
    with torch.no_grad():
        h0 = m[0](x)
        h2 = m[2](torch.relu(h0))
        h4 = m[4](torch.relu(h2))
    real = [float(h0.var()), float(h2.var()), float(h4.var())]
    assert v == pytest.approx(real, rel=1e-5)


# lsuv_ now takes 1-D data for (B,) token ids, but also takes a 1-D *float* tensor: one
# unbatched sample for an MLP (x[0] instead of x[:1] or x) is silently "rescaled" on the
# variance over one sample's units. Before this diff it was refused with "pass data= a tensor
# (B, *input_shape) with B >= 2"; a float (B,) batch is never token ids, so it should still be.
def test_lsuv_refuses_one_unbatched_float_sample():
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    with pytest.raises(UserError):
        lsuv_(m, torch.randn(4))


# clip_grad_norm_ promises torch.nn.utils.clip_grad_norm_'s result per model. With float64
# gradients beside 16-bit ones (the new "any 16-bit" branch) the coefficient is cast with
# .float() to float32, so the float64 gradients are scaled by a float32-rounded coefficient
# (~1e-8 relative off); torch keeps the float64 coefficient (the stacked norms promote to
# float64). Expected: bitwise equal to torch per model.
def test_clip_float64_beside_float16_matches_torch():
    torch.manual_seed(0)
    k = 3
    ps = []
    for dtype, shape in ((torch.float64, (k, 5)), (torch.float16, (k, 7))):
        p = torch.zeros(shape, dtype=dtype, requires_grad=True)
        p.grad = (torch.randn(shape, dtype=torch.float64) * 3).to(dtype)
        ps.append(p)
    refs = []
    for i in range(k):
        qs = []
        for p in ps:
            q = torch.zeros(p.shape[1:], dtype=p.dtype, requires_grad=True)
            q.grad = p.grad[i].clone()
            qs.append(q)
        torch.nn.utils.clip_grad_norm_(qs, 1.0)
        refs.append([q.grad for q in qs])
    clip_grad_norm_(ps, 1.0, k=k)
    for i in range(k):
        for p, g in zip(ps, refs[i], strict=True):
            assert torch.equal(p.grad[i], g), (i, p.dtype)
