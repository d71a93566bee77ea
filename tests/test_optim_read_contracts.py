"""Review of the population optimizers and per-model clipping (``trainlab.optim``): branches the
other suites leave out, each checked against ``torch.optim`` / ``torch.nn.utils`` per model."""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import clip_grad_norm_, create_optimizer

F64 = torch.float64

TORCH = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
}


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize(
    "name, hp",
    [
        ("adam", {"lr": 0.01}),
        ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
        ("adagrad", {"lr": 0.1, "lr_decay": 0.5}),
    ],
)
def test_a_refused_step_does_not_count_as_a_step(name, hp, fused):
    """A step that ``step()`` refuses with a ConfigError (here a per-model lr of the wrong length
    set on the group, which the error message tells the user to fix: "set a number, a 0-d tensor
    or a (K,) tensor") must leave the optimizer as it was, so that after the fix the run goes on
    exactly as ``torch.optim`` would. Adam/AdamW and Adagrad advance each parameter's step count
    *before* checking the group's values, so the refused call still counts: the next real step is
    taken as t = 2 (Adam's bias corrections 1 − β₁², 1 − β₂²; Adagrad's lr decay
    η/(1 + lr_decay)) instead of t = 1, and the first update is ~25-35 % too small here (SGD and
    RMSprop check first and are unaffected). A notebook user who fixes a typo and re-runs the
    cell, or a trainer that catches the error and retries, silently trains with the wrong
    bias correction / lr decay from then on."""
    k = 3
    g = torch.Generator().manual_seed(0)
    init = torch.randn(k, 4, generator=g, dtype=F64)
    grad = torch.randn(k, 4, generator=g, dtype=F64)
    p = init.clone()
    opt = create_optimizer(name, [p], **hp, fused=fused)
    p.grad = grad.clone()
    opt.param_groups[0]["lr"] = torch.full((k + 1,), hp["lr"], dtype=F64)  # wrong length
    with pytest.raises(ConfigError):
        opt.step()
    opt.param_groups[0]["lr"] = hp["lr"]  # fixed
    opt.step()
    for m in range(k):
        ref = init[m].clone()
        o = TORCH[name]([ref], **hp)
        ref.grad = grad[m].clone()
        o.step()
        torch.testing.assert_close(p[m], ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_per_model_max_norm_clips_gradients_as_the_same_float_does(dtype):
    """``clip_grad_norm_`` promises to match ``torch.nn.utils.clip_grad_norm_`` called on each
    model alone, and a ``(K,)`` tensor of per-model values is the library's way to give each
    model its own threshold. For float32 gradients (the default training dtype) a per-model
    ``max_norm`` must therefore clip every model exactly as that model's own number does (and as
    a shared float does): the optimizers take care to round per-model float64 values once to the
    parameters' compute dtype for exactly this reason (``bcast``). ``clip_grad_norm_`` instead
    divides the float64 ``max_norm`` by the float32 norm in float64 and rounds only the quotient,
    while torch (and trainlab's own float path) computes ``float32(max_norm) / (norm + 1e-6)`` in
    float32; the coefficients differ in the last bit for many models, so a model's clipped
    gradient (and its whole trajectory, bit for bit) depends on whether its threshold was given
    as a number or inside a per-model tensor — e.g. on whether it is trained alone or next to
    models with other thresholds. For bfloat16/float16 gradients the same holds: torch keeps the
    Python float in float32 (the op math of 16-bit tensors), where rounding the (K,) max_norm to
    the 16-bit norms' dtype (0.1 -> 0.10009765625 in bfloat16) changed the last bit for many
    models."""
    k = 64
    g = torch.Generator().manual_seed(0)
    grads = (torch.randn(k, 7, generator=g) * 3).to(dtype)  # every model's norm well above 0.1

    def clipped(max_norm):
        p = torch.zeros(k, 7, dtype=dtype, requires_grad=True)
        p.grad = grads.clone()
        clip_grad_norm_([p], max_norm, k=k)
        return p.grad

    shared = clipped(0.1)
    per_model = clipped(torch.full((k,), 0.1, dtype=F64))
    for m in range(k):  # the float path is torch's, bit for bit
        t = torch.zeros(7, dtype=dtype, requires_grad=True)
        t.grad = grads[m].clone()
        torch.nn.utils.clip_grad_norm_([t], 0.1)
        assert torch.equal(shared[m], t.grad)
    differ = [m for m in range(k) if not torch.equal(per_model[m], shared[m])]
    assert not differ, f"{len(differ)} of {k} models clipped differently with a (K,) max_norm"
