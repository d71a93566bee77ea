"""Review read29o: trainlab.diagnostics.watch, gradient reads of one forward's several backward
calls (grad_versions / unreached) and of torch.autograd.grad steps."""

import pytest
import torch
from torch import nn

from trainlab.diagnostics.watch import watch


class _BodyHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 5)
        self.head = nn.Linear(5, 2)

    def forward(self, x):
        h = self.body(x)
        return h, self.head(h)


def _norm(mod: nn.Module) -> float:
    return torch.cat([p.grad.flatten() for p in mod.parameters()]).norm().item()


# watch.py `_Sample.grad_versions` is taken in `_pre_forward`, and `_grads_done` calls a
# parameter "unreached by the first backward" only if its .grad version is still the one seen
# at the forward. The very common loop `out = model(x); opt.zero_grad(set_to_none=False);
# loss.backward()` zeroes the grads *after* the forward, which moves every version, so a head
# that only the second loss reaches is read at the first backward as 0.0 and never again,
# although the docstring promises "a head only a later loss reaches is read too" (and the same
# loop with zero_grad before the forward records the right 2.34). The expected value is the
# head's .grad norm after the backward that reached it (what the optimizer uses), computed here.
def test_head_reached_only_by_second_loss_is_read_when_zero_grad_runs_after_the_forward():
    torch.manual_seed(0)
    m = _BodyHead()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x = torch.randn(8, 4)
    h, o = m(x)  # a warm-up step, so that every .grad exists
    (h.sum() + o.sum()).backward()
    opt.step()
    with watch(m, every=1, start_step=1, update_ratio=False) as w:
        h, o = m(x)
        opt.zero_grad(set_to_none=False)  # between forward and backward
        h.pow(2).mean().backward(retain_graph=True)  # reaches the body only
        body = _norm(m.body)
        o.pow(2).mean().backward()  # reaches the head
        head = _norm(m.head)
    rec = {r["layer"]: r for r in w.records()}
    assert rec["body"]["grad_norm"] == pytest.approx(body, rel=1e-5)
    assert rec["head"]["grad_norm"] == pytest.approx(head, rel=1e-5), (rec["head"], head)


# The module doc names `torch.autograd.grad(loss, params)` as a backward that ends a step, and
# grad_norm is "read when the backward of step s ends". autograd.grad writes no .grad, so
# `_grads_done` reads whatever .grad held before the step: in a loop that assigns
# `p.grad = g` after autograd.grad (functional / manual-SGD style), step s records step s-1's
# gradient norm (the records are shifted by one step: [None, g0, g1] for true [g0, g1, g2]).
# A number of another step is wrong; the right record is this step's gradient norm, or None
# ("no gradient") when the watch cannot see it (the version counters tell that the .grad was
# not written by this step; _writes_grads already sees autograd.grad via its RuntimeError).
def test_autograd_grad_step_does_not_record_the_previous_steps_gradient():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    ps = list(m.parameters())
    true = []
    with watch(m, every=1, update_ratio=False) as w:
        for s in range(3):
            x = torch.randn(8, 4) * (s + 1) * 3
            gs = torch.autograd.grad(m(x).pow(2).mean(), ps)
            true.append(torch.cat([g.flatten() for g in gs[:2]]).norm().item())
            for p, g in zip(ps, gs, strict=True):
                p.grad = g
            with torch.no_grad():
                for p in ps:
                    p -= 0.01 * p.grad
    got = [r["grad_norm"] for r in w.records() if r["layer"] == "0"]
    assert len(got) == 3
    for s in (1, 2):
        assert got[s] is None or got[s] == pytest.approx(true[s], rel=1e-5), (got, true)
