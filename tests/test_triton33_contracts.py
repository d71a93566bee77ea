"""triton33: the public Triton Adam step writes through raw pointers."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from trainlab.optim import triton_adam


def _state(k: int, n: int, *, transposed: bool = False):
    p = torch.randn(n, k).t() if transposed else torch.randn(k, n)  # (K, n), maybe a view
    return [p], [torch.randn(k, n)], [torch.zeros(k, n)], [torch.zeros(k, n)]


# adam_step_ is public (in __all__) and its compiled kernel indexes each tensor as a flat
# contiguous block: a non-contiguous one (a transposed view) would be written at the wrong
# places on a GPU (Triton's CPU interpreter hides it). Adam checks this (usable()) before it
# calls the kernel; the function itself must refuse such tensors with a clear error.
def test_adam_step_refuses_non_contiguous_tensors():
    p, g, m, v = _state(3, 5, transposed=True)
    assert not p[0].is_contiguous()
    with pytest.raises(ValueError, match="contiguous"):
        triton_adam.adam_step_(
            p, g, m, v, None, k=3, t=[1], lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
            weight_decay=0.0, decoupled=False, maximize=False,
        )  # fmt: skip


# The kernel's writes are unseen by autograd: without a version bump, a graph that saved the
# old weights would backpropagate through the updated ones silently (torch's own in-place
# optimizer ops bump the counter and make that backward fail). Needs Triton (its CPU
# interpreter runs the kernel here).
@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="Triton not installed")
def test_adam_step_bumps_the_versions_of_what_it_writes():
    p, g, m, v = _state(3, 5)
    before = [x._version for x in (*p, *m, *v)]
    triton_adam.adam_step_(
        p, g, m, v, None, k=3, t=[1], lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
        weight_decay=0.0, decoupled=False, maximize=False,
    )  # fmt: skip
    assert all(x._version > b for x, b in zip((*p, *m, *v), before, strict=True))
