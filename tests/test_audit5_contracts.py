"""audit5: issue 5 (optimizers, schedules) audited against the implementation."""

from __future__ import annotations

import pytest
import torch

from trainlab import optim as O


# create_schedule(name, <float lr>) builds its base as torch.tensor([lr]) (float32): every rate it
# gives is rounded to float32 (0.1 -> 0.10000000149), so `group["lr"] = sched(step)` in a float64
# run is off torch.optim by ~1e-8 relative. The rates should be the float lr in float64.
def test_audit5_shared_float_schedule_keeps_float64_rates():
    sched = O.create_schedule("step", 0.1, total_steps=10, steps_per_epoch=1, step_size=3,
                              gamma=0.5)  # fmt: skip
    assert sched(0).dtype == torch.float64
    assert sched(0).item() == 0.1
    assert sched(3).item() == 0.05


# Adam/AdamW compute -lr/(1-b1^t) (and AdamW's 1 - lr*wd) in the dtype of a group["lr"] tensor set
# after construction (float32 here; int64 also becomes float32), where the same tensor given at
# construction is kept in float64; so the same lrs give other weights (~1e-8 rel in float64).
# Right: per-model values set on the group are computed in float64, as construction stores them.
@pytest.mark.parametrize(("name", "fused"), [("Adam", False), ("AdamW", False), ("AdamW", None)])
def test_audit5_adam_lr_set_on_group_in_float32_matches_constructed(name, fused):
    lrs = torch.tensor([0.25, 0.5, 0.125], dtype=torch.float32)  # exact in float32
    torch.manual_seed(0)
    w0 = torch.randn(3, 5, dtype=torch.float64)
    out = []
    for mode in ("ctor", "set"):
        w = w0.clone().requires_grad_()
        opt = getattr(O, name)([w], lr=lrs if mode == "ctor" else 0.1, weight_decay=0.1,
                               fused=fused)  # fmt: skip
        for _ in range(5):
            if mode == "set":
                opt.param_groups[0]["lr"] = lrs
            w.grad = 0.1 * w.detach() + 1.0
            opt.step()
        out.append(w.detach())
    torch.testing.assert_close(out[1], out[0], rtol=1e-12, atol=0.0)


# The same through a shared-float schedule, the README's pattern (`group["lr"] = sched(step)`):
# Adam with a constant schedule of lr 0.1 must equal torch.optim.Adam(lr=0.1) to 1e-10 rel.
def test_audit5_adam_with_shared_schedule_matches_torch():
    torch.manual_seed(0)
    w0 = torch.randn(2, 5, dtype=torch.float64)
    w = w0.clone().requires_grad_()
    opt = O.Adam([w], lr=0.1, fused=False)
    sched = O.create_schedule("none", 0.1, total_steps=20, steps_per_epoch=1)
    refs = [w0[k].clone().requires_grad_() for k in range(2)]
    ropts = [torch.optim.Adam([r], lr=0.1) for r in refs]
    for t in range(20):
        opt.param_groups[0]["lr"] = sched(t)
        w.grad = w.detach() ** 3
        opt.step()
        for r, o in zip(refs, ropts, strict=True):
            r.grad = r.detach() ** 3
            o.step()
    torch.testing.assert_close(w.detach(), torch.stack(refs).detach(), rtol=1e-10, atol=0.0)
