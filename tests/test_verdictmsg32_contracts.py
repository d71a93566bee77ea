"""Review findings (verdictmsg32): health verdict messages as a student reads them."""

import torch
import torch.nn as nn

from trainlab.diagnostics import verdict, watch
from trainlab.diagnostics.verdict import verdict_rows


def _rec(model, step, layer, order, **kw):
    base = dict(
        model=model, step=step, layer=layer, kind="linear", order=order, calls=1, act_std=None,
        nonfinite=False, weight_norm=1.0, grad_norm=0.1, out_grad_norm=0.1, update_ratio=1e-3,
    )  # fmt: skip
    base.update(kw)
    return base


# verdict_rows (the one-screen `trainlab diagnose` table and the report's "Health verdict")
# folds every non-ok finding of a check into one row: "models" counts them all, "detail" is one
# model's message. When models fired in OPPOSITE directions (an lr grid [1e-6, 0.5]: two models
# "too small", two "too large"; an init sweep: vanishing and exploding gradients) the row reads
# "update_ratio warn 4/4 ... model 0: update/weight ratio too small" -- i.e. "raise the lr" for
# all four, the wrong advice for the too-large half (confirmed with `trainlab diagnose
# examples/digits_mlp.yaml --seeds 2 --set optim.name=sgd --set 'population.grid={optim.lr:
# [1e-6, 0.5]}'`). The row must not hide the other direction: its text should say it too.
def test_population_row_does_not_hide_the_opposite_direction():
    recs = []
    for step in (0, 10):
        recs += [
            _rec(0, step, "fc1", 0, update_ratio=1e-8),
            _rec(0, step, "out", 1, update_ratio=1e-8),
        ]
        recs += [
            _rec(1, step, "fc1", 0, update_ratio=0.5),
            _rec(1, step, "out", 1, update_ratio=0.5),
        ]
        recs += [
            _rec(2, step, "fc1", 0, out_grad_norm=1e-5),
            _rec(2, step, "out", 1, out_grad_norm=1.0),
        ]
        recs += [
            _rec(3, step, "fc1", 0, out_grad_norm=1e3),
            _rec(3, step, "out", 1, out_grad_norm=1.0),
        ]
    findings = verdict(recs)
    # (the per-model findings are right: one too small, one too large, one vanishing, one exploding)
    msgs = {(f.model, f.check): f.message for f in findings if not f.ok}
    assert "too small" in msgs[0, "update_ratio"] and "too large" in msgs[1, "update_ratio"]
    assert "vanishing" in msgs[2, "gradients"] and "exploding" in msgs[3, "gradients"]
    rows = {r["check"]: r for r in verdict_rows(findings)}
    upd = rows["update_ratio"]["models"] + " " + rows["update_ratio"]["detail"]
    assert "too small" in upd and "too large" in upd, rows["update_ratio"]
    grad = rows["gradients"]["models"] + " " + rows["gradients"]["detail"]
    assert "vanishing" in grad and "exploding" in grad, rows["gradients"]


class _AbsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 3)

    def forward(self, x):
        h = self.fc2(torch.relu(self.fc1(x)))
        h = torch.where(h.abs() < 0.3, torch.zeros_like(h) * h, h)  # some exact zeros
        h = torch.sqrt(h * h)  # |h| written by hand: at 0 its backward is 0 * inf = NaN
        return self.out(h)


# A NaN made in the backward pass by an unwatched op in the model's own forward code (sqrt at
# 0, between fc2 and out) is blamed on "the backward pass of layer 'out' (... the last layer in
# forward order with a non-finite gradient ...)". But diagnostics show 'out' with finite weights,
# a finite parameter gradient and a finite output gradient (so its input gradient δ·W is finite
# too); the first non-finite gradient is at fc2's OUTPUT (README: "for a NaN the backward pass
# made, the last layer whose gradient was [non-finite]" -- that is fc2, not out). The forward
# check hedges for "a computation ... that no watched layer covers"; the backward one should name
# fc2 (where the NaN was measured) rather than send the student to a healthy nn.Linear.
def test_backward_nan_from_unwatched_op_names_the_layer_whose_gradient_was_nonfinite():
    torch.manual_seed(0)
    m = _AbsNet()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with watch(m, every=1) as w:
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    recs = w.records()
    by = {r["layer"]: r for r in recs if r["step"] == 0}
    # the records: fc2's output gradient is NaN; every gradient of 'out' is finite
    assert by["fc2"]["out_grad_norm"] != by["fc2"]["out_grad_norm"]
    assert all(
        torch.isfinite(torch.tensor(by["out"][k]))
        for k in ("grad_norm", "out_grad_norm", "weight_norm")
    )
    f = next(f for f in verdict(recs) if f.check == "nonfinite")
    assert f.status == "fail"
    assert "'fc2'" in f.message, f.message
