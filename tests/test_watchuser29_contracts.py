"""Review watchuser29: watch() on user modules in a user's own loop (multi-loss backward,
layers that do not run at every step) and the verdicts on those records."""

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.diagnostics import verdict, watch


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.ha = nn.Linear(8, 1)
        self.hb = nn.Linear(8, 1)

    def forward(self, x):
        h = self.act(self.trunk(x))
        return self.ha(h), self.hb(h)


# A multi-task step that backpropagates its two losses separately from one forward
# (l_a.backward(retain_graph=True); l_b.backward()) trains head `hb` with l_b's gradient only.
# watch reads the parameter gradients at the end of the FIRST backward only
# (watch.py _grads_done, `if sample.grads_read: return`), so `hb`, which l_a does not reach,
# records grad_norm=None although hb.grad is non-zero and the optimizer moved it (here by ~4x its
# norm per step); the verdict's update check only judges layers with a grad_norm
# (verdict._check_updates `has_grad`), so it says "ok" for a head whose update ratio is ~4 (> 0.1).
# Expected: hb's grad_norm is ‖hb.grad‖ as the optimizer used it (the sum of both backward
# calls, which grad_norm's doc promises for accumulated gradients), and the verdict flags hb.
def test_second_backward_of_one_forward_counts_for_grad_norm_and_update_verdict():
    torch.manual_seed(0)
    m = _TwoHeads()
    slow = list(m.trunk.parameters()) + list(m.ha.parameters())
    opt = torch.optim.SGD([{"params": slow, "lr": 1e-4}, {"params": m.hb.parameters(), "lr": 1.0}])
    x = torch.randn(16, 4)
    with watch(m) as w:
        for _ in range(3):
            opt.zero_grad()
            a, b = m(x)
            a.pow(2).mean().backward(retain_graph=True)
            (b - 1).pow(2).mean().backward()
            want = torch.cat([p.grad.flatten() for p in m.hb.parameters()]).norm().item()
            opt.step()
    recs = w.records()
    hb = next(r for r in recs if r["step"] == 2 and r["layer"] == "hb")
    assert hb["update_ratio"] > 1.0  # the head really moved by more than its norm
    assert hb["grad_norm"] is not None and abs(hb["grad_norm"] - want) <= 1e-5 * want
    upd = next(f for f in verdict(recs) if f.check == "update_ratio")
    assert upd.status == "warn" and "hb" in upd.layers + [upd.layer]


class _Branchy(nn.Module):
    """In-place ReLUs (as torchvision's ResNets) and an auxiliary head used at some steps only."""

    def __init__(self, inplace: bool) -> None:
        super().__init__()
        self.l1 = nn.Linear(4, 16)
        self.r1 = nn.ReLU(inplace=inplace)
        self.l2 = nn.Linear(16, 16)
        self.r2 = nn.ReLU(inplace=inplace)
        self.out = nn.Linear(16, 2)
        self.aux = nn.Linear(16, 2)
        self.use_aux = True

    def forward(self, x):
        h = self.r2(self.l2(self.r1(self.l1(x))))
        y = self.out(h)
        return y + self.aux(h) if self.use_aux else y


def _branchy_records(inplace: bool, set_to_none: bool):
    torch.manual_seed(0)
    m = _Branchy(inplace)
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    x, y = torch.randn(32, 4), torch.randn(32, 2)
    with watch(m, every=1) as w:
        for i in range(3):
            m.use_aux = i == 0  # the auxiliary head runs at step 0 only
            opt.zero_grad(set_to_none=set_to_none)
            F.mse_loss(m(x), y).backward()
            opt.step()
    return w.records()


# verdict._check_gradients (in-place activations: the ‖∂L/∂θ‖ fallback) takes the first and last
# rows of _latest(rows, "grad_norm") sorted by forward order, where a layer that did not run at
# that step (order None) sorts last. With zero_grad(set_to_none=False) that layer's zeroed
# .grad gives grad_norm 0.0, so "the last layer" is 'aux', which did not run, and the ratio is
# g_first / 0 = inf: "exploding gradients ... = inf > 100". The layers that ran have
# ‖∂L/∂θ‖ 0.14 (l1), 0.29 (l2), 0.21 (out): first/last in forward order = 0.65, no warning.
# Fix: leave out rows with order None (not in this step's forward order).
def test_gradient_verdict_ignores_a_layer_that_did_not_run_at_the_step():
    recs = _branchy_records(inplace=True, set_to_none=False)
    last = {r["layer"]: r for r in recs if r["step"] == 2}
    assert last["aux"]["order"] is None and last["aux"]["grad_norm"] == 0.0
    assert 0.1 < last["l1"]["grad_norm"] / last["out"]["grad_norm"] < 10
    grad = [f for f in verdict(recs) if f.check == "gradients"]
    assert all(f.status == "ok" for f in grad), [f.message for f in grad]


# verdict._check_updates judges every layer that had a gradient at ANY sampled step
# (`has_grad`), at the latest step. A head that did not run at the latest step (no gradient
# there: grad_norm None with the default zero_grad) gets no SGD update, ratio 0.0, and is called
# "update/weight ratio too small: 0.0e+00 in 'aux'" (learning too slowly: raise the lr), while
# every layer that trained is within bounds. README: the check is for "a layer that receives
# gradients"; at that step 'aux' received none and did not run (order None).
def test_update_verdict_does_not_call_a_layer_that_did_not_run_too_slow():
    recs = _branchy_records(inplace=False, set_to_none=True)
    last = {r["layer"]: r for r in recs if r["step"] == 2}
    assert last["aux"]["order"] is None and last["aux"]["grad_norm"] is None
    upd = next(f for f in verdict(recs) if f.check == "update_ratio")
    assert upd.status == "ok", upd.message
