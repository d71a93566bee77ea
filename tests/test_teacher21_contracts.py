"""Review (teacher21): diagnostics verdicts on deliberately sick nets (zeros init, dead ReLUs)."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.diagnostics import verdict, watch
from trainlab.diagnostics.run import run_findings


def _row(layer, kind, order, **kw):
    base = {
        "model": 0,
        "layer": layer,
        "step": 0,
        "kind": kind,
        "order": order,
        "calls": 1,
        "act_mean": 0.0,
        "act_std": 0.0,
        "dead_fraction": None,
        "saturated_fraction": None,
        "nonfinite": False,
        "grad_norm": None,
        "out_grad_norm": 0.0,
        "weight_norm": None,
        "update_ratio": None,
        "loss_scale": None,
    }
    base.update(kw)
    return base


def test_zero_init_update_ratio_does_not_blame_float32_rounding():
    # Wrong: a zeros-init MLP sampled only at step 0 (`trainlab diagnose init_schemes.yaml
    # --every 50
    # --set 'population.variants=[{init.scheme: zeros}]'`) is told "the updates round away in
    # float32: raise the learning rate"; the only gradient flows in 'out', whose ratio is undefined
    # (‖θ‖=0), while every measured layer has a zero gradient. Right: no rounding/raise-lr advice.
    # (These are the step-0 records that run wrote, statistics trimmed.)
    records = [
        _row("fc1", "linear", 0, grad_norm=0.0, weight_norm=0.0, update_ratio=0.0),
        _row("act1", "relu", 1, dead_fraction=1.0),
        _row("fc2", "linear", 2, grad_norm=0.0, weight_norm=0.0, update_ratio=0.0),
        _row("act2", "relu", 3, dead_fraction=1.0),
        _row(
            "out",
            "linear",
            4,
            grad_norm=0.0721,
            out_grad_norm=0.0949,
            weight_norm=0.0,
            update_ratio=None,
        ),
    ]
    summary = {"models": [{"index": 0, "status": "ok", "stopped_step": None}]}
    (f,) = [f for f in run_findings(records, summary) if f.check == "update_ratio"]
    assert "round away" not in f.message and "raise the learning rate" not in f.message, f.message


def test_dead_relu_not_ok_when_shared_relu_module_hides_dead_layer():
    # Wrong: the common idiom `self.relu = nn.ReLU()` reused for every layer is measured at its
    # first call only, and verdict() then reports dead_relu "ok: at most 5%" although every unit
    # after fc3 is dead on the whole data set. Right: the dead_relu check must not say "ok" from a
    # module whose record says calls=3 (measure each call, or say it cannot judge it).
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(16, 32), nn.Linear(32, 32)
            self.fc3, self.out = nn.Linear(32, 32), nn.Linear(32, 4)
            self.relu = nn.ReLU()

        def forward(self, x):
            x = self.relu(self.fc1(x))
            x = self.relu(self.fc2(x))
            return self.out(self.relu(self.fc3(x)))

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.fc3.bias.fill_(-10.0)  # every fc3 unit dead from the start
    x, y = torch.randn(64, 16), torch.randint(0, 4, (64,))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with watch(net, every=1) as w:
        for _ in range(4):
            loss = nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        dead = (torch.relu(net.fc3(torch.relu(net.fc2(torch.relu(net.fc1(x)))))) <= 0).all(0)
    assert dead.float().mean().item() == 1.0  # the sick net really is sick
    dead_findings = [f for f in verdict(w.records()) if f.check == "dead_relu"]
    assert all(f.status != "ok" for f in dead_findings), [f.message for f in dead_findings]
