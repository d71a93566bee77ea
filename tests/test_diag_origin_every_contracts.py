"""Defects found reviewing diagnostics (watch / verdict / diagnose) as a user meets them."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import verdict, watch


class _SqrtBlock(nn.Module):
    """A block with a parameter of its own and a child Linear; its forward is finite but its
    backward makes a NaN at its input (d sqrt(u)/du at u = 0 is inf, times (1 - 1) ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(16, 16)
        self.w = nn.Parameter(torch.ones(16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.relu(x)
        return self.lin(x) * self.w + torch.sqrt(z - z)


def test_backward_nan_origin_names_the_block_not_its_child():
    # verdict._backward_origin maps a NaN gradient at layer i's output to the next record in
    # forward order, here the block's child '2.lin' (all its gradients finite); the NaN came
    # out of the block '2' whose input it is: the origin must be '2'
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), _SqrtBlock(), nn.ReLU(), nn.Linear(16, 4))
    x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
    with watch(model, every=1) as w:
        nn.functional.cross_entropy(model(x), y).backward()
    recs = {r["layer"]: r for r in w.records()}
    assert recs["2.lin"]["grad_norm"] == recs["2.lin"]["grad_norm"]  # finite: not the origin
    f = next(f for f in verdict(w.records()) if f.check == "nonfinite")
    assert f.status == "fail"
    assert f.layer == "2", f.message


def test_watch_every_accepts_a_numpy_integer():
    # Watch.__init__ refuses every=np.int64(5) ("must be a positive int, got np.int64(5)")
    # while bins/hist_values take any numbers.Integral: a NumPy integer count must be accepted
    import numpy as np

    model = nn.Linear(4, 2)
    with watch(model, every=np.int64(2)) as w:
        for _ in range(3):
            model(torch.randn(8, 4)).sum().backward()
    assert sorted({r["step"] for r in w.records()}) == [0, 2]
