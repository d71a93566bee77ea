"""diff29b review: watch's .grad version tracking (78290a4, e5c6fd9) and Report.add_table's
DataFrame index (903c0b4)."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab.diagnostics.watch import watch


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.t = nn.Linear(4, 8)
        self.h1 = nn.Linear(8, 1)
        self.h2 = nn.Linear(8, 1)

    def forward(self, x):
        z = torch.tanh(self.t(x))
        return self.h1(z), self.h2(z)


def _norm(mod: nn.Module) -> float:
    return torch.sqrt(sum(p.grad.detach().pow(2).sum() for p in mod.parameters())).item()


# What is wrong: watch._grads_done decides that a later backward "reached" a head whose .grad
# the first backward left alone by comparing only p.grad._version with the version seen
# before. A backward with create_graph=True does not add into .grad in place: AccumulateGrad
# replaces it with a new tensor (old + new), whose version counter starts again (0). With
# gradients accumulated across steps (no zeroing) the head's .grad at the step's start is
# such a fresh tensor (version 0) from the last step, and the new one the second loss makes
# has version 0 too: the head is taken as "not reached", keeping the first backward's reading
# of the *previous* step's .grad. At step 2 h2's grad_norm reads 2.09 (step 1's value) while
# its .grad, the gradient the optimizer uses ("if gradients are accumulated without zeroing,
# the sum so far", watch's docstring), has norm 3.14. Expected: every step's h2 grad_norm
# equals the norm of h2's .grad after the step's backwards. Fix: remember the .grad tensor
# itself (or its id/weakref) with its version, and re-read it when either changed.
def test_create_graph_accumulated_head_reached_by_second_loss_is_read_again():
    torch.manual_seed(0)
    m = _TwoHeads()
    x = torch.randn(16, 4)
    truth = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch's create_graph reference-cycle warning)
        with watch(m, every=1) as w:
            for _ in range(3):
                a, b = m(x)
                a.pow(2).mean().backward(retain_graph=True, create_graph=True)
                b.pow(2).mean().backward(create_graph=True)
                truth.append(_norm(m.h2))
            recs = w.records()
        for p in m.parameters():  # (break the create_graph reference cycle)
            p.grad = None
    got = {r["step"]: r["grad_norm"] for r in recs if r["layer"] == "h2"}
    assert sorted(got) == [0, 1, 2]
    for step, want in enumerate(truth):
        assert got[step] == pytest.approx(want, rel=1e-5), (step, got, truth)


# What is wrong: Report.add_table now calls DataFrame.reset_index() for any non-default index
# (903c0b4: "a DataFrame's index becomes its first columns"). A DataFrame indexed by one of
# its own columns, df.set_index("name", drop=False) (a common pandas idiom: look rows up by
# name, keep the column), makes reset_index raise "ValueError: cannot insert name, already
# exists", so add_table, which rendered such a frame before this change, now crashes.
# Expected: the table is added (the index level that is already a column shown once, or
# otherwise not duplicated), with the frame's values in it.
def test_add_table_dataframe_indexed_by_its_own_column(tmp_path):
    pd = pytest.importorskip("pandas")
    from trainlab.report.html import Report

    rep = Report(tmp_path, title="t")
    df = pd.DataFrame({"name": ["alpha", "beta"], "acc": [0.5, 0.75]}).set_index("name", drop=False)
    rep.add_table("accuracy", df)
    html = rep.write(include_standard=False).read_text()
    assert "alpha" in html and "beta" in html and "0.75" in html
