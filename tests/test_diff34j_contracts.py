"""diff34j review: this session's watch/verdict/CLI changes (interactions)."""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


class _Flaky(nn.Module):
    """A Linear whose forward can raise after computing (a skipped bad batch)."""

    def __init__(self) -> None:
        super().__init__()
        self.l = nn.Linear(4, 2)
        self.fail = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.l(x)
        if self.fail:
            raise RuntimeError("bad batch")
        return y


# watch.py, Watch._pre_forward: gradients accumulated over 4 micro-steps (0..3), the forward of
# micro-step `bad` raises (the loop skips that batch), then optimizer.step() after micro-step 3.
# Step 0's gradient is part of the update (it stays in .grad), so by the README ("every sampled
# step of gradients accumulated over several steps gives the ratio of the update that used
# them") step 0 must read the same ratio as steps 2 and 3. The raised step (no backward,
# grads_after == []) is judged "not accumulating" at the next forward and dropped together with
# its `waiting` chain, which holds step 0: step 0 reads None. Only the raised step should get
# None. Expected value: ‖θ_after − θ_before‖/‖θ_before‖ of layer 'l', computed here by hand.
@pytest.mark.parametrize("every,bad", [(1, 1), (2, 2)])
@pytest.mark.parametrize("mode", ["optimizer", "data"])
def test_raised_forward_mid_accumulation_keeps_earlier_steps_ratio(every, bad, mode):
    torch.manual_seed(0)
    m = _Flaky()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    xs = torch.randn(4, 16, 4)
    before = torch.cat([p.detach().flatten().clone() for p in m.parameters()])
    with watch(m, every=every) as w:
        for i in range(4):
            m.fail = i == bad
            with contextlib.suppress(RuntimeError):
                m(xs[i]).pow(2).mean().backward()
        if mode == "optimizer":
            opt.step()
        else:
            with torch.no_grad():
                for p in m.parameters():
                    p.data -= 0.1 * p.grad
        opt.zero_grad()
        recs = w.records()
    after = torch.cat([p.detach().flatten() for p in m.parameters()])
    truth = ((after - before).norm() / before.norm()).item()
    got = {r["step"]: r["update_ratio"] for r in recs if r["layer"] == "l"}
    assert got[bad] is None  # the raised step had no gradient: no ratio
    assert got[0] == pytest.approx(truth, rel=1e-4)  # step 0's gradient was in the update
    assert got[3 if every == 1 else 0] == pytest.approx(truth, rel=1e-4)


# ---- diff34k: a raised forward right before the update (f34e383) ----------------------------


def _flat(m: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in m.parameters()])


# watch.py, Watch._finish_update: the module docstring (and diff34j's test) say a step "whose
# forward raised (a skipped batch) gets None" -- it had no backward, so no optimizer update was
# made with its gradient. That holds when the update comes a step later (the raised step is
# dropped at the next forward and hands its `waiting` chain on), but when the optimizer steps
# right after the raised micro-step (the last micro-step of an accumulation, the loop catching
# the error and stepping anyway), the raised step is still `_pending` and `_finish_update`
# assigns the update to `(sample, *sample.waiting)` -- the raised sample included. Here the
# gradients of micro-steps 0..`bad-1` are accumulated, micro-step `bad` raises, then the update.
# Expected: the raised step reads None; the earlier steps read the hand-computed
# ‖θ_after − θ_before‖ / ‖θ_before‖ (they do already). Fix: in _finish_update, give the update
# only to the waiting steps when the pending sample never had a backward (no grads_after).
@pytest.mark.parametrize("every,bad,n", [(1, 3, 4), (2, 2, 3), (1, 1, 2)])
@pytest.mark.parametrize("mode", ["optimizer", "data"])
def test_raised_forward_right_before_the_update_gets_no_ratio(every, bad, n, mode):
    torch.manual_seed(0)
    m = _Flaky()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    xs = torch.randn(n, 16, 4)
    before = _flat(m)
    with watch(m, every=every) as w:
        for i in range(n):
            m.fail = i == bad
            with contextlib.suppress(RuntimeError):
                m(xs[i]).pow(2).mean().backward()
        if mode == "optimizer":
            opt.step()
        else:
            with torch.no_grad():
                for p in m.parameters():
                    p.data -= 0.1 * p.grad
        opt.zero_grad()
        recs = w.records()
    truth = ((_flat(m) - before).norm() / before.norm()).item()
    got = {r["step"]: r["update_ratio"] for r in recs if r["layer"] == "l"}
    assert got[0] == pytest.approx(truth, rel=1e-4)  # step 0's gradient was in the update
    assert got[bad] is None  # the raised step had no gradient: no ratio


# The same in a running loop (every=1): updates after micro-steps 0, 2 and 3, zero_grad after
# each. The update after step 2 is made with step 1's gradient only, because step 2's forward
# raised (the loop skipped the batch but kept its update schedule). Step 1 reads that update's
# ratio, computed here by hand; step 2 must read None (docstring: "whose forward raised ...
# gets None"), not step 1's update; step 3 reads its own update.
def test_raised_forward_then_update_then_more_training():
    torch.manual_seed(0)
    m = _Flaky()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    xs = torch.randn(4, 16, 4)
    ratios = {}
    with watch(m, every=1) as w:
        before = _flat(m)
        for i in range(4):
            m.fail = i == 2
            with contextlib.suppress(RuntimeError):
                m(xs[i]).pow(2).mean().backward()
            if i in (0, 2, 3):
                opt.step()
                opt.zero_grad()
                after = _flat(m)
                ratios[i] = ((after - before).norm() / before.norm()).item()
                before = after
        recs = w.records()
    got = {r["step"]: r["update_ratio"] for r in recs if r["layer"] == "l"}
    assert got[1] == pytest.approx(ratios[2], rel=1e-4)  # step 1's gradient made that update
    assert got[3] == pytest.approx(ratios[3], rel=1e-4)
    assert got[2] is None  # raised: no gradient of its own, no ratio
