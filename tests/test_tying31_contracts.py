"""Review tests (tying31): trainlab.diagnostics.watch / verdict on models with unusual structure
(reused blocks, tied weights, shared parameters)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.diagnostics import verdict, watch


class _UnrolledCell(nn.Module):
    """A block reused in a loop (an unrolled recurrent cell): its *second* call overflows."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(4, 4)
        self.cell = nn.Linear(4, 4)
        self.out = nn.Linear(4, 2)
        with torch.no_grad():
            self.cell.weight.fill_(1.0)
            self.cell.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.cell(self.inp(x))  # first call: finite
        h = h.clamp(-1, 1).abs() * 3e38  # finite (float32 max is 3.4e38)
        h = self.cell(h)  # second call: sums of 4 values near 3e38 -> +inf
        return self.out(h)


# watch measures a reused module at its first call only, so the Inf that `cell` makes at its
# second call is invisible and verdict's nonfinite check names the *next* layer, 'out' ("NaN/Inf
# first appears ... in layer 'out' (first in forward order)"), whose weights and arithmetic are
# fine. The README/verdict promise "the first layer (forward order) whose output was
# non-finite": that is `cell` (its 2nd call runs before `out`). The dead_relu/saturation checks
# already refuse to say "ok" for a layer with calls > 1; the nonfinite check should likewise
# name the reused layer that ran before the blamed one (or record finiteness over every call,
# which the hook, already called each time to count `calls`, can do cheaply).
def test_nonfinite_origin_made_by_a_reused_block_names_that_block() -> None:
    torch.manual_seed(0)
    m = _UnrolledCell()
    x = torch.randn(8, 4)
    with torch.no_grad():  # the premise: the Inf is made by cell's 2nd call, not by `out`
        h = m.cell(m.cell(m.inp(x)).clamp(-1, 1).abs() * 3e38)
        assert not torch.isfinite(h).all()
    with watch(m, every=1) as w:
        m(x).sum().backward()
    found = [f for f in verdict(w.records()) if f.check == "nonfinite"]
    assert len(found) == 1 and found[0].status == "fail"
    f = found[0]
    assert f.layer == "cell" or "cell" in f.layers or "'cell'" in f.message, f.message


class _TwoHeadsTied(nn.Module):
    """Two heads sharing one weight Parameter (b.weight is a.weight), each with its own loss."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.b.weight = self.a.weight

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.a(x), self.b(x * 3)


# Two losses backpropagated one after the other (loss_a reaches only head `a`, loss_b only head
# `b`); `a` and `b` share their weight. The docstring promises: "a layer keeps the numbers of
# the first backward that reached it ... and a head only the later loss reaches is read too
# (its gradient is then the one the optimizer uses)". Head `b` is reached only by loss_b, but
# _grads_done tracks "already read" per parameter slot: the shared weight already had a .grad
# after loss_a's backward, so b's weight column is frozen at loss_a's gradient, while b.bias is
# read after loss_b. b's grad_norm is then ‖[∂loss_a/∂W, ∂loss_b/∂b_bias]‖ (11.8 here), a mix
# that describes neither loss nor the optimizer's gradient (54.5 here). Expected: the
# optimizer's gradient ‖[W.grad, b.bias.grad]‖ after both backwards, or loss_b's own
# ‖[∂loss_b/∂W, ∂loss_b/∂b_bias]‖ (accepted too). Fix: re-read every parameter of a layer
# at the backward that first reaches that layer (e.g. keyed by the layer's out-grad hook), not
# per parameter slot.
@pytest.mark.xfail(
    strict=True,
    reason="known limitation, documented in watch's docstring: a shared parameter is read at the "
    "first backward that reaches either layer (per-layer re-reads left for a later change)",
)
def test_grad_norm_of_tied_head_reached_by_a_later_loss_is_not_a_mix() -> None:
    torch.manual_seed(0)
    m = _TwoHeadsTied().double()
    x = torch.randn(5, 4, dtype=torch.double)
    # loss_b's own gradient of head b
    ya, yb = m(x)
    gw, gbias = torch.autograd.grad(yb.pow(2).sum(), (m.b.weight, m.b.bias))
    loss_b_only = torch.cat([gw.flatten(), gbias]).norm().item()
    with watch(m, every=1) as w:
        ya, yb = m(x)
        ya.pow(2).sum().backward(retain_graph=True)
        yb.pow(2).sum().backward()
    optimizer_sees = torch.cat([m.b.weight.grad.flatten(), m.b.bias.grad]).norm().item()
    rec = {r["layer"]: r for r in w.records()}
    got = rec["b"]["grad_norm"]
    ok = [abs(got - v) <= 1e-6 * v for v in (optimizer_sees, loss_b_only)]
    assert any(ok), (got, optimizer_sees, loss_b_only)
