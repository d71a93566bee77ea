"""Review read29n: verdict.py (health verdicts on watch records)."""

import math

from trainlab.diagnostics import verdict


def _rec(layer, step, order, **kw):
    d = dict(
        model=0, layer=layer, step=step, order=order, kind="linear", act_mean=0.0,
        act_std=None, dead_fraction=None, saturated_fraction=None, grad_norm=None,
        out_grad_norm=None, weight_norm=None, update_ratio=None, nonfinite=None,
    )  # fmt: skip
    d.update(kw)
    return d


# _backward_origin (verdict.py) sorts the step's rows by order and puts rows with order None
# (a layer not called at that step, e.g. an auxiliary head used only on some steps: watch
# records it with order None and no statistics) last. It then takes rows[-1] as "the last
# layer" and the row after the real last layer as its consumer: a NaN target at a step where
# 'aux' did not run was blamed on "the backward pass of layer 'aux'" (a layer that took no part
# in that step), instead of "the gradient from the loss" at 'b', as the same model without the
# aux head is told. (Records as watch() gives them for such a model: see the review report.)
def test_nan_from_loss_not_blamed_on_layer_not_called_at_that_step():
    nan = math.nan
    recs = []
    for name, order, kind, w in (("a", 0, "linear", 3.0), ("act", 1, "tanh", None),
                                 ("b", 2, "linear", 1.0), ("aux", 3, "linear", 1.0)):  # fmt: skip
        g = None if w is None else 0.5
        recs.append(_rec(name, 0, order, kind=kind, act_std=0.4, nonfinite=False,
                         grad_norm=g, out_grad_norm=0.2, weight_norm=w))  # fmt: skip
    for name, order, kind, w in (("a", 0, "linear", 3.0), ("act", 1, "tanh", None),
                                 ("b", 2, "linear", 1.0)):  # fmt: skip
        g = None if w is None else nan
        recs.append(_rec(name, 1, order, kind=kind, act_std=0.4, nonfinite=False,
                         grad_norm=g, out_grad_norm=nan, weight_norm=w))  # fmt: skip
    recs.append(_rec("aux", 1, None, weight_norm=1.0))  # not called at step 1
    (f,) = [f for f in verdict(recs) if f.check == "nonfinite"]
    assert f.status == "fail" and f.step == 1
    assert f.layer == "b", f.message
    assert "gradient from the loss" in f.message
    assert "aux" not in f.layers


# _check_gradients (verdict.py) takes the first and last layer *with parameters* that have
# ‖∂L/∂y‖ as soon as there are two of them, so when ReLU(inplace=True) overwrote the first
# layer's output (out_grad_norm None) the ratio starts at the second Linear and the shrink
# through it goes unseen. The docstring (and README: "past an in-place activation, the
# activations' ‖∂L/∂y‖") says that where an in-place activation overwrote a layer's output the
# first and last layer with the norm, activations included, are compared: here the ReLU right
# after layer 0, whose ‖∂L/∂y‖ is ~1.7e-4 vs ~0.12 at the last layer (ratio ~1.5e-3 < 1e-2).
# The same model with ReLU(inplace=False) and the same gradients warns (ratio 1.1e-3); with
# inplace=True the verdict said "ok ('2' / '4') = 0.57". The verdict must not depend on inplace.
def test_inplace_relu_after_first_layer_does_not_hide_vanishing_gradients():
    import torch
    from torch import nn

    from trainlab.diagnostics import watch

    def gradients(inplace):
        torch.manual_seed(0)
        m = nn.Sequential(
            nn.Linear(16, 64), nn.ReLU(inplace=inplace), nn.Linear(64, 64), nn.Tanh(),
            nn.Linear(64, 4),
        )  # fmt: skip
        nn.init.normal_(m[2].weight, std=1e-4)  # the gradient shrinks through layer '2'
        opt = torch.optim.SGD(m.parameters(), lr=1e-2)
        x, y = torch.randn(64, 16), torch.randn(64, 4)
        with watch(m, every=1) as w:
            for _ in range(3):
                opt.zero_grad()
                ((m(x) - y) ** 2).mean().backward()
                opt.step()
        (f,) = [f for f in verdict(w.records()) if f.check == "gradients"]
        return f

    assert gradients(False).status == "warn"  # the reference: layer 0's own ‖∂L/∂y‖
    f = gradients(True)
    assert f.status == "warn", f.message
    assert "vanishing" in f.message
    assert f.value < 1e-2
