"""Review tests (tutor35): diagnostics of the classic failures a lab shows."""

from trainlab.train import train


# ‖∂L/∂y‖ of a layer underflows to exactly 0 on the CPU. The trainer turns on
# flush-denormal mode while training on the CPU (train._flush_denormals), and the watch
# computes ‖∂L/∂y‖ as sqrt(Σ g²) in float32 (watch._grad_norm / stats.norms): when the
# gradient's elements are ~1e-20 (normal float32 numbers, the gradient itself is not
# flushed) their squares are denormal and flushed, so the norm reads 0.0 instead of ~5e-19.
# In the classic deep-sigmoid N(0, 0.01²) lab the verdict then says
# "‖∂L/∂y‖ first/last layer = 0.00e+00" (an exactly zero, i.e. dead, gradient) while on CUDA
# (no flush) the same run records the true ~1e-17 ratio: the number depends on the device.
# Expected: fc1's output is sigmoid'(y)·(act1's ∂L/∂y) with sigmoid' ≈ 0.25 here (fc1's
# outputs have std ~0.04 around 0), so ‖∂L/∂y_fc1‖ ≥ 0.2·‖∂L/∂y_act1‖ > 0. A fix: scale
# before squaring (norm(g / amax|g|)·amax|g|), or take the norm outside the flush context.
def test_vanishing_sigmoid_out_grad_norm_not_flushed_to_zero():
    cfg = {
        "name": "vanish",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [64] * 10, "activation": "sigmoid"},
        "init": {"scheme": "normal", "std": 0.01},
        "optim": {"name": "sgd", "lr": 0.01},
        "train": {"epochs": 1, "batch_size": 100, "diagnose_every": 1000},
        "population": {"seeds": [0]},
    }
    res = train(cfg, device="cpu", progress=False, write=False)
    rows = {(r["layer"], r["step"]): r for r in res.diagnostics if r["model"] == 0}
    act1 = rows[("act1", 0)]["out_grad_norm"]
    fc1 = rows[("fc1", 0)]["out_grad_norm"]
    assert act1 is not None and act1 > 0
    assert fc1 is not None
    assert fc1 >= 0.2 * act1, (fc1, act1)
