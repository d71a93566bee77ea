"""Review of the health verdicts (2026-11-30): in-place activations, a one-sample last batch."""

import torch
from torch import nn

from trainlab.diagnostics import verdict, watch


def _gradients(inplace: bool) -> list:
    torch.manual_seed(0)
    layers = [x for _ in range(6) for x in (nn.Linear(32, 32), nn.ReLU(inplace=inplace))]
    m = nn.Sequential(*layers, nn.Linear(32, 10))
    for mod in m:
        if isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, 0, 0.7)  # too large: ‖∂L/∂y‖ grows ~500x toward the input
            nn.init.zeros_(mod.bias)
    x, y = torch.randn(64, 32), torch.randint(0, 10, (64,))
    with watch(m, every=1) as w:
        nn.functional.cross_entropy(m(x), y).backward()
    return [f for f in verdict(w.records()) if f.check == "gradients"]


def test_exploding_gradients_are_reported_with_inplace_relu_as_without():
    # ReLU(inplace=True) leaves every hidden Linear's out_grad_norm None, so the gradients check
    # silently falls back to the ‖∂L/∂θ‖ ratio and gives no finding; it should judge the same net
    # as with ReLU(inplace=False) (exploding, warn), e.g. from the in-place ReLU's ‖∂L/∂y‖.
    plain = _gradients(inplace=False)
    assert [f.status for f in plain] == ["warn"] and "exploding" in plain[0].message
    found = _gradients(inplace=True)
    assert [f.status for f in found] == ["warn"]
    assert "exploding" in found[0].message


def test_dead_relu_is_not_flagged_on_a_healthy_net_whose_last_sampled_batch_holds_one_sample():
    # the check judges only the latest sampled step; a 1-sample last batch (which the trainer
    # allows) makes ~half of a healthy ReLU layer's units "dead on every sample" -> a false
    # "dead ReLU units" warning; a tiny batch should not be judged (or a full-batch step used).
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                      nn.Linear(256, 10))  # fmt: skip
    for mod in m:
        if isinstance(mod, nn.Linear):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.zeros_(mod.bias)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    x, y = torch.randn(385, 64), torch.randint(0, 10, (385,))
    with watch(m, every=1) as w:
        for lo in (0, 128, 256, 384):  # an epoch of 385 samples in batches of 128: last one is 1
            opt.zero_grad()
            nn.functional.cross_entropy(m(x[lo : lo + 128]), y[lo : lo + 128]).backward()
            opt.step()
    recs = w.records()
    full = [r["dead_fraction"] for r in recs if r["step"] == 2 and r["kind"] == "relu"]
    assert max(full) < 0.05  # healthy on full batches
    dead = [f for f in verdict(recs) if f.check == "dead_relu"]
    assert [f.status for f in dead] == ["ok"], dead[0].message
