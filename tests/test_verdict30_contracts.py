"""Review verdict30: health verdicts on canonical cases (false positives / negatives)."""

from __future__ import annotations

from trainlab.diagnostics import verdict


def _rec(step, layer, kind, order, **kw):
    r = {
        "model": 0, "step": step, "layer": layer, "kind": kind, "order": order,
        "nonfinite": False, "act_std": 1.0,
    }  # fmt: skip
    r.update(kw)
    return r


def _update_finding(recs):
    return next(f for f in verdict(recs) if f.check == "update_ratio")


# Wrong: `trainlab diagnose` of the digits MLP (ReLU, he_normal) with plain SGD lr 10, no
# schedule (--epochs 1 --every 5): step 0 updates 0.8/0.7/2.0 (too large), step 5 fc1 0.039,
# fc2 0.002, then every ReLU is dead: fc1/fc2 have grad_norm exactly 0 and update 0 at every
# later step. The verdict says update_ratio "ok: within [1e-05, 0.1]; it fell to 0.0e+00 at the
# latest step, after moving within bounds earlier (as a decaying learning rate makes it)".
# Right: a decaying learning rate leaves the gradient flowing; a layer whose gradient is 0 and
# whose update is 0 is stuck (no gradient reaches it), the same state the verdict already calls
# "update/weight ratio too small: 0.0e+00 in 'fc1'" for a ReLU net killed by a bias of -5. The
# "slowed at the end" exemption must not apply to a layer with no gradient: warn, naming fc1.
def test_dead_layer_with_zero_gradient_is_not_excused_as_a_decaying_schedule():
    ratios = {  # step -> (fc1, fc2, out) update ratios, as recorded (sgd lr 10 run)
        0: (0.797, 0.694, 1.98),
        5: (0.0394, 0.00205, 0.240),
        10: (0.0, 0.0, 2.39e-4),
        15: (0.0, 0.0, 1.42e-4),
        20: (0.0, 0.0, 1.33e-4),
    }
    recs = []
    for step, rs in ratios.items():
        dead = step >= 10
        for order, (layer, ratio) in enumerate(zip(("fc1", "fc2", "out"), rs, strict=True)):
            g = 0.0 if dead and layer != "out" else 0.5
            recs.append(_rec(step, layer, "linear", order, grad_norm=g, out_grad_norm=g,
                             weight_norm=10.0, update_ratio=ratio))  # fmt: skip
    f = _update_finding(recs)
    assert "decaying" not in f.message, f.message
    assert f.status == "warn", f.message
    assert "fc1" in f.layers, f


# Wrong: examples/init_schemes.yaml, model 0 (init.scheme zeros, ReLU MLP, Adam 1e-3;
# `trainlab diagnose examples/init_schemes.yaml --epochs 1 --every 5`): fc1 and fc2 have weight
# norm 0, gradient 0 and update 0 from step 0 on (their units dead from the start); 'out' grows
# from 0, so its ratio reads 0.139 at step 5 and 0.064 at step 10. The verdict says "update/weight
# ratio too small: 0.0e+00 in 'fc1' (bound 1e-05); at step 5 it was too large: 1.4e-01 in 'out'
# (bound 0.1), which can kill or saturate units", blaming a step-5 update for a layer that was
# already at 0 (never moved, units dead) at step 0, before that update. Right: an earlier too
# large update explains a layer that stopped moving *after* it (the docstring's "a model that
# stopped moving ... after too large a step"); fc1 never moved, so the note must not be given.
def test_zeros_init_slow_layer_is_not_blamed_on_a_later_too_large_update():
    recs = []
    for step, out_ratio, out_w in ((0, None, 0.0), (5, 0.139, 0.00767), (10, 0.0642, 0.00935)):
        for order, layer in enumerate(("fc1", "fc2")):
            recs.append(_rec(step, layer, "linear", 2 * order, act_std=0.0, grad_norm=0.0,
                             out_grad_norm=0.0, weight_norm=0.0, update_ratio=0.0))  # fmt: skip
            recs.append(_rec(step, f"act{order + 1}", "relu", 2 * order + 1, act_std=0.0,
                             out_grad_norm=0.0, dead_fraction=1.0))  # fmt: skip
        out = {"grad_norm": 0.07, "out_grad_norm": 0.095, "weight_norm": out_w}
        recs.append(_rec(step, "out", "linear", 4, act_std=0.003, update_ratio=out_ratio, **out))
    f = _update_finding(recs)
    assert f.status == "warn" and f.layer == "fc1", f
    assert "at step 5" not in f.message and "kill or saturate" not in f.message, f.message
