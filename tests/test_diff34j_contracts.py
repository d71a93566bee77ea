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
