"""Review (verdict21): health verdicts judged on deliberately built sick and healthy nets."""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.diagnostics import verdict, watch


def _findings(model, *, x=None, y=None, loss_fn=None, steps=2, lr=0.1):
    torch.manual_seed(0)
    x = torch.randn(32, 8) if x is None else x
    y = torch.randint(0, 4, (32,)) if y is None else y
    loss_fn = loss_fn or F.cross_entropy
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    with watch(model, every=1) as w:
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        records = w.records()
    return {f.check: f for f in verdict(records)}


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4)
    )  # fmt: skip


def test_nan_made_by_the_loss_is_not_blamed_on_the_last_layers_backward_pass() -> None:
    # wrong: a NaN target makes the loss NaN (every output finite, ∂L/∂y at the last layer's
    # output already NaN), yet the verdict says NaN first appears "in the backward pass of
    # layer '4'"; right: the gradient arriving from the loss was NaN, so say the loss made it
    target = torch.randn(32, 4)
    target[0, 0] = float("nan")
    nf = _findings(_mlp(), y=target, loss_fn=F.mse_loss, steps=1)["nonfinite"]
    assert nf.status == "fail"
    assert "loss" in nf.message.lower(), nf.message


def test_nan_in_the_input_data_is_not_reported_as_made_by_the_first_layer() -> None:
    # wrong: a NaN in the input batch is reported as "NaN/Inf first appears ... in layer '0'",
    # whose weights are finite (the user hunts a bad layer); right: name the input (the data)
    # as the likely origin when the first layer's weights are finite
    x = torch.randn(32, 8)
    x[3, 2] = float("nan")
    nf = _findings(_mlp(), x=x, steps=1)["nonfinite"]
    assert nf.status == "fail"
    assert "input" in nf.message.lower(), nf.message


def test_relu6_stuck_at_its_cap_is_not_called_healthy() -> None:
    # wrong: every ReLU6 unit outputs 6 on every sample (gradient 0: the units are dead), yet
    # dead_relu says "ok at most 0%" and no saturation finding exists; right: flag the layer
    torch.manual_seed(0)
    first = nn.Linear(8, 16)
    nn.init.constant_(first.bias, 10.0)
    fs = _findings(nn.Sequential(first, nn.ReLU6(), nn.Linear(16, 4)))
    flagged = [f for c in ("dead_relu", "saturation") if (f := fs.get(c)) and not f.ok]
    assert flagged and flagged[0].layer == "1", {c: f.message for c, f in fs.items()}


def test_inplace_relu_does_not_turn_a_vanishing_gradient_verdict_into_ok() -> None:
    # wrong: with a fully dead ReLU (layer '0' gets exactly zero gradient) the gradients check
    # warns "vanishing" for nn.ReLU() but says "ok ... = 0.58" for nn.ReLU(inplace=True), as it
    # then takes the ReLU's own ∂L/∂y as the "first"; right: the same verdict either way
    def make(inplace: bool) -> nn.Module:
        torch.manual_seed(0)
        first = nn.Linear(8, 16)
        nn.init.constant_(first.bias, -5.0)
        return nn.Sequential(first, nn.ReLU(inplace=inplace), nn.Linear(16, 4))

    plain = _findings(make(False))["gradients"]
    inplace = _findings(make(True))["gradients"]
    assert plain.status == "warn"
    assert inplace.status == plain.status, inplace.message


def test_a_final_softmax_is_not_reported_as_collapsing_activations() -> None:
    # wrong: a healthy MLP ending in nn.Softmax over 100 classes is told "collapsing
    # activations: std of '5' is 2.96e-03x the first layer's": probabilities sum to 1, so their
    # std is ~1/C by construction; right: normalising outputs (Softmax/LogSoftmax) are no
    # evidence of a shrinking signal and must not be compared with the first activation
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 100),
        nn.Softmax(dim=1),
    )  # fmt: skip
    fs = _findings(
        model, y=torch.randint(0, 100, (32,)), loss_fn=lambda p, y: F.nll_loss(torch.log(p), y)
    )
    assert fs["activations"].status == "ok", fs["activations"].message


def test_update_ratio_message_does_not_round_the_value_onto_its_bound() -> None:
    # wrong: a ratio of 9.96e-6 is shown as "too small: 1.0e-05 in 'a' (bound 1e-05)", which
    # reads as false; right: show enough digits that the value visibly crosses the bound (as
    # _percents already does for the dead/saturated fractions)
    rows = [
        {"model": 0, "step": s, "layer": "a", "order": 0, "nonfinite": False, "grad_norm": 1.0,
         "weight_norm": 1.0, "update_ratio": 9.96e-6}
        for s in range(3)
    ]  # fmt: skip
    (f,) = [f for f in verdict(rows) if f.check == "update_ratio"]
    assert f.status == "warn"
    shown = re.search(r"too small: (\S+) in", f.message)
    assert shown and float(shown.group(1)) < 1e-5, f.message
