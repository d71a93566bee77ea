"""Review: verdicts on populations whose models differ in health (per-model overrides)."""

from __future__ import annotations

import copy

import torch
from torch import nn

import trainlab
from trainlab.config import parse_config
from trainlab.diagnostics.run import diagnose
from trainlab.diagnostics.verdict import verdict_rows


class _Net(nn.Module):
    """A user's own module (not the built-in mlp): trained in vmap mode."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.act1 = nn.Tanh()
        self.fc2 = nn.Linear(16, 16)
        self.act2 = nn.Tanh()
        self.out = nn.Linear(16, 10)

    def forward(self, x):
        return self.out(self.act2(self.fc2(self.act1(self.fc1(x.flatten(1))))))


def _cfg(variants, *, hidden=(16,), every=None):
    train = {"epochs": 1, "batch_size": 256}
    if every is not None:
        train["diagnose_every"] = every
    return parse_config(
        {
            "name": "vp2",
            "model": {"name": "mlp", "hidden": list(hidden)},
            "init": {"scheme": "xavier_uniform"},
            "optim": {"name": "sgd", "lr": 0.05},
            "train": train,
            "population": {"seeds": [0], "variants": variants},
        }
    )


def test_models_column_counts_every_model_for_gradients_in_a_vmap_population(tmp_path):
    """The one-screen table's ``models`` column is documented as "for how many of them it
    fired, ``"2/16"``": the denominator is the population's size. In a vmap/loop population
    (a user's own module) the gradients check uses ‖∂L/∂θ‖, which gives no finding at all for a
    healthy model, so the row for a 2-model population where one model (zeros init) has
    vanishing gradients reads ``1/1`` -- as if the whole population were sick -- and its
    detail does not even say which model it is. It must read ``1/2`` and name model 0."""
    torch.manual_seed(0)
    net = _Net()
    res = trainlab.train(
        _cfg([{"init.scheme": "zeros"}, {}], every=5), model=copy.deepcopy(net),
        out=tmp_path / "run", device="cpu", progress=False,
    )  # fmt: skip
    from trainlab.diagnostics.run import read_records, run_findings

    findings = run_findings(read_records(res.run_dir), res.summary)
    grads = [f for f in findings if f.check == "gradients"]
    assert [(f.model, f.status) for f in grads] == [(0, "warn")]  # model 1 is healthy
    row = next(r for r in verdict_rows(findings) if r["check"] == "gradients")
    assert row["models"] == "1/2", row
    assert row["detail"].startswith("model 0: "), row


def test_update_ratio_warns_for_a_model_whose_first_update_overflowed(tmp_path):
    """verdict.py promises that a model with no update (stopped by the trainer after NaN) is
    not flagged *unless an earlier sampled step's update was too large (> 1e-1)* -- "the usual
    story of a too-high learning rate". With lr 1e30 the step-0 update ratio is recorded as
    +inf (‖Δθ‖ overflowed float32): the largest update of all. ``_check_updates`` looks for
    the earlier too-large step only among *finite* ratios, so it misses it and the model is
    reported ``update_ratio: ok -- no update (model stopped or frozen)``; the table row says
    ``ok 0/2`` for a population where one model's lr blew it up. It must warn for model 1."""
    res = diagnose(
        _cfg([{}, {"optim.lr": 1e30}], hidden=(16, 16)), out=tmp_path / "run", every=3,
        epochs=1, device="cpu", progress=False, report=False,
    )  # fmt: skip
    m1 = [r for r in res.records if r["model"] == 1 and r["step"] == 0]
    assert any(r.get("update_ratio") == float("inf") for r in m1)  # the overflowed step
    upd = {f.model: f for f in res.findings if f.check == "update_ratio"}
    assert upd[0].status == "ok", upd[0]
    assert upd[1].status == "warn", upd[1]
    row = next(r for r in verdict_rows(res.findings) if r["check"] == "update_ratio")
    assert row["models"] == "1/2", row
