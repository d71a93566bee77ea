"""Review (nanorigin32): the NaN/Inf origin verdict for a NaN made by the backward pass."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import verdict, watch


class _SqrtLayer(nn.Module):
    """y = s * sqrt(relu-mask(x)): outputs and ∂L/∂s finite; ∂L/∂x is NaN where x <= 0
    (d sqrt/dx at 0 is inf, times the mask's 0)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.s = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.s * torch.sqrt(x * (x > 0))


class _LongSkip(nn.Module):
    """l1's output feeds l2 (the next layer in forward order) and, through a long skip
    connection (U-Net / Inception style), 'skip', three layers later."""

    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Linear(8, 8)
        self.l2 = nn.Linear(8, 8)
        self.l3 = nn.Linear(8, 8)
        self.skip = _SqrtLayer(8)
        self.out = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.l1(x)
        return self.out(self.l3(torch.tanh(self.l2(torch.tanh(a)))) + self.skip(a))


# The backward-origin inference (verdict._backward_origin/_consumer) takes a non-finite
# ‖∂L/∂y‖ at a layer's output to have come out of the *next* layer in forward order. With a
# skip connection that is wrong: here the NaN enters ∂L/∂a through 'skip' (its input gradient
# is NaN), while 'l2' -- named as the origin -- has a finite parameter gradient and a finite
# output gradient, and its input gradient W2ᵀ·(finite) is finite. The verdict's own message
# says "the last layer in forward order with a non-finite gradient", and the docstring/README
# define the origin as the last layer whose parameter gradient, or the gradient at whose input,
# was non-finite: that is 'skip' (the only layer whose input gradient is NaN). Naming 'l2'
# sends the user to a healthy layer. The records hold no layer's input gradient, so the verdict
# cannot name 'skip': it names where the NaN was measured (l1's output gradient) and says that it
# came from an unwatched computation or a later layer through a skip connection.
def test_backward_nan_through_a_skip_connection_is_not_blamed_on_a_clean_next_layer():
    torch.manual_seed(0)
    m = _LongSkip()
    x = torch.randn(4, 8)
    with watch(m, every=1) as w:
        m(x).pow(2).mean().backward()
    recs = w.records()
    rows = {r["layer"]: r for r in recs}
    # the premise: every output finite, l2's gradients finite, l1's NaN
    assert not any(r["nonfinite"] for r in recs)
    assert torch.isfinite(torch.tensor(rows["l2"]["grad_norm"]))
    assert torch.isfinite(torch.tensor(rows["l2"]["out_grad_norm"]))
    assert torch.isnan(torch.tensor(rows["l1"]["out_grad_norm"]))
    f = next(f for f in verdict(recs) if f.check == "nonfinite")
    assert f.status == "fail" and f.step == 0
    assert f.layer == "l1", f.message
    assert "'l2'" in f.message and "skip connection" in f.message, f.message
