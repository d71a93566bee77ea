"""Review (watchloop30): trainlab.diagnostics.watch attached to a user's own training loop."""

import math

import pytest
import torch
from torch import nn

from trainlab.diagnostics import verdict, watch


def _norm(ts):
    return math.sqrt(sum(float(t.detach().double().pow(2).sum()) for t in ts))


def _layer(recs, name):
    return [r for r in recs if r["layer"] == name]


# Fine-tuning with a frozen backbone: stage 1 trains everything, stage 2 freezes the backbone
# (requires_grad_(False)) and steps a new optimizer over the head only. The backbone's
# parameters keep the .grad of the last stage-1 step (the head optimizer's zero_grad never
# touches them), and Watch._grads_done reads any non-None .grad: every stage-2 record of the
# frozen layer '0' carries that stale stage-1 grad_norm although no backward of the step
# produced a gradient for it (docs: norms are None where a layer has no gradient). Worse, the
# verdict then reads "a layer's gradient flows but its update was 0" and warns
# "update/weight ratio too small" about a deliberately frozen layer -- which it does not do
# for the same model frozen from the start (no leftover .grad). Expected: grad_norm None for
# parameters that take no gradient in the step (requires_grad False during its backward), and
# no update_ratio warning. Fix: skip parameters with requires_grad False in _grads_done.
def test_frozen_backbone_stale_grad_not_reported_and_no_update_warning():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    x, y = torch.randn(64, 8), torch.randn(64, 4)
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    for _ in range(3):  # stage 1, unwatched
        opt.zero_grad()
        ((m(x) - y) ** 2).mean().backward()
        opt.step()
    for p in m[0].parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD(m[2].parameters(), lr=0.05)
    with watch(m, every=1) as w:
        for _ in range(4):
            opt.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            opt.step()
    recs = w.records()
    assert [r["grad_norm"] for r in _layer(recs, "0")] == [None] * 4
    upd = [f for f in verdict(recs) if f.check == "update_ratio"]
    assert upd and all(f.status == "ok" for f in upd), [f.message for f in upd]


# GAN loop that freezes the discriminator D for the generator's step (requires_grad_(False),
# as in many GAN codebases). Watching D, the generator step's forward through D is a step of
# its own; its backward reaches no parameter of D, yet its record reads D's .grad left from
# the discriminator step (bitwise the previous step's grad_norm). Expected None.
def test_gan_frozen_discriminator_step_reads_no_stale_grad():
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8))
    d = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    og, od = torch.optim.Adam(g.parameters(), 1e-3), torch.optim.Adam(d.parameters(), 1e-3)
    bce = nn.BCEWithLogitsLoss()
    real = torch.randn(32, 8)
    ones, zeros = torch.ones(32, 1), torch.zeros(32, 1)
    with watch(d, every=1) as w:
        for _ in range(2):
            fake = g(torch.randn(32, 4))
            od.zero_grad()
            (bce(d(real), ones) + bce(d(fake.detach()), zeros)).backward()
            od.step()
            for p in d.parameters():
                p.requires_grad_(False)
            og.zero_grad()
            bce(d(fake), ones).backward()
            og.step()
            for p in d.parameters():
                p.requires_grad_(True)
    recs = _layer(w.records(), "0")
    assert [r["step"] for r in recs] == [0, 1, 2, 3]
    assert recs[0]["grad_norm"] is not None
    # steps 1 and 3 are the generator's: no gradient of D was taken in them
    assert recs[1]["grad_norm"] is None and recs[3]["grad_norm"] is None


def _scaler_run(every):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    sc = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    x, y = torch.randn(64, 8), torch.randn(64, 4)
    moved = []
    with watch(m, every=every, scaler=sc) as w:
        for it in range(4):
            before = [p.detach().clone() for p in m[0].parameters()]
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = ((m(x).float() - y) ** 2).mean()
            if it == 0:
                loss = loss * 1e38  # the scaled gradients overflow: the scaler skips the step
            sc.scale(loss).backward()
            sc.step(opt)
            sc.update()
            moved.append(_norm([p - q for p, q in zip(m[0].parameters(), before, strict=True)]))
    return _layer(w.records(), "0"), moved


# GradScaler skip (the brief's "skip optimizer.step on inf"): step 0 overflows, the scaler
# does not call optimizer.step, so no update is made with step 0's gradient (the parameters do
# not move in iteration 0). With every=1 its update_ratio is None; with every=2 the pending
# step 0 stays open (read as "accumulation") and gets the update made with step 1's gradient
# (0.0082), so the record depends on `every` and contradicts the documented meaning
# ("the optimizer update made with the gradient of step s"). Expected None for both. Fix: a
# pending step whose gradients were discarded before any update (zero_grad: .grad set to None
# or rewritten by a later step's backward; or the scaler's found_inf) gets no ratio.
@pytest.mark.parametrize("every", [1, 2])
def test_scaler_skipped_step_gets_no_later_update(every):
    recs, moved = _scaler_run(every)
    assert moved[0] == 0.0 and moved[1] > 0
    assert recs[0]["step"] == 0 and not math.isfinite(recs[0]["grad_norm"])
    assert recs[0]["update_ratio"] is None


# Same without a scaler: the loop checks the gradient norm and skips optimizer.step on inf,
# zeroing the gradients at the next iteration. Step 0's record (every=2) reports the update
# that step 1 made.
def test_manual_inf_skip_gets_no_later_update():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x, y = torch.randn(64, 8), torch.randn(64, 4)
    with watch(m, every=2) as w:
        for it in range(4):
            opt.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            if it % 2 == 0:
                loss = loss * float("inf")
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(m.parameters(), 1e9)
            if torch.isfinite(gn):
                opt.step()
    recs = _layer(w.records(), "0")
    assert [r["step"] for r in recs] == [0, 2]
    assert [r["update_ratio"] for r in recs] == [None, None]


# LBFGS.step(closure) with line_search_fn="strong_wolfe": each closure evaluation is a watch
# step, and the line search's last evaluation is at the final point of the optimizer step
# (_directional_evaluate adds t*d, evaluates, restores, then the step adds t*d again), so the
# last sampled step's update_ratio is 0.0 and the verdict says "no update (model stopped or
# frozen)" for a model that moved by ~10% per optimizer step. Expected: no such verdict (e.g.
# forwards run inside one optimizer.step(closure) counted as one step, with ‖Δθ‖ over the
# whole optimizer step, via register_optimizer_step_pre_hook/post_hook).
@pytest.mark.xfail(
    strict=True,
    reason="known limitation, in the README: here the step before the line search's last "
    "evaluation moved above the update bound (0.11 > 0.1), and a lone 0 right after a too-large "
    "step reads as a model that step killed, which the records alone cannot tell apart",
)
def test_lbfgs_strong_wolfe_verdict_not_no_update():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    opt = torch.optim.LBFGS(m.parameters(), lr=0.5, max_iter=4, line_search_fn="strong_wolfe")
    x, y = torch.randn(64, 8), torch.randn(64, 4)

    def closure():
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        return loss

    with watch(m, every=1) as w:
        for _ in range(2):
            before = [p.detach().clone() for p in m.parameters()]
            opt.step(closure)
    moved = _norm([p - q for p, q in zip(m.parameters(), before, strict=True)])
    assert moved / _norm(before) > 1e-3
    upd = [f for f in verdict(w.records()) if f.check == "update_ratio"]
    assert upd and not any("no update" in f.message for f in upd), [f.message for f in upd]
