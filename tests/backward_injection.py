"""A NaN or Inf born in the backward pass, for the verdict's non-finite tests: an MLP whose
backward puts a value into one gradient element above its second activation at one step."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.diagnostics.verdict import verdict


class Inject(torch.autograd.Function):
    """Identity forward; its backward puts ``value`` into one element of the gradient (a NaN
    or Inf born in the backward pass, e.g. a custom op's sqrt/log at 0)."""

    @staticmethod
    def forward(ctx, x, value):
        ctx.value = value
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        grad[0, 0] = ctx.value
        return grad, None


class InjectingMlp(nn.Module):
    """6-8-8-3 with ``activation``; with ``dead_unit``, unit 0 of ``a2`` is inactive on every
    sample (a ReLU's backward then zeroes what is injected there)."""

    def __init__(self, activation: type[nn.Module] = nn.Tanh, dead_unit: bool = False):
        super().__init__()
        self.l1, self.a1 = nn.Linear(6, 8), activation()
        self.l2, self.a2 = nn.Linear(8, 8), activation()
        self.l3 = nn.Linear(8, 3)
        if dead_unit:
            with torch.no_grad():
                self.l2.bias[0] = -100.0
        self.value = None  # set: the backward of this step injects it above a2

    def forward(self, x):
        h = self.a2(self.l2(self.a1(self.l1(x))))
        if self.value is not None:
            h = Inject.apply(h, self.value)
        return self.l3(h)


def nonfinite_finding(value: float, layers=None, **mlp):
    """The verdict's ``nonfinite`` finding for 6 SGD steps of :class:`InjectingMlp` (``mlp``:
    its options) with ``value`` injected in the backward of step 3, watching ``layers``."""
    torch.manual_seed(0)
    net = InjectingMlp(**mlp)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)
    with watch(net, every=1, layers=layers) as w:
        for s in range(6):
            net.value = value if s == 3 else None
            x, y = torch.randn(4, 6, generator=g), torch.randint(0, 3, (4,), generator=g)
            opt.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        records = w.records()
    (f,) = [f for f in verdict(records) if f.check == "nonfinite"]
    return f
