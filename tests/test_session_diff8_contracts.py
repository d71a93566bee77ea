"""Adversarial review of the three newest commits (b94a943, c8a91fa, 4ca3634): holes left in
their fixes (the refused-step counters of the population optimizers, the per-model
``max_norm`` rounding, the GradScaler ``found_inf`` rule of the watch, the verdict's rule for
an inf output-gradient norm), each checked against torch or against the same computation
written another way.

Every test here fails on the code it was written against, for the reason its docstring gives.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from backward_injection import nonfinite_finding
from trainlab.diagnostics import watch
from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer

F64 = torch.float64

TORCH = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adagrad": torch.optim.Adagrad,
}


# -- a refused step with several param groups ---------------------------------------------------


@pytest.mark.parametrize("name", ["sgd", "adam", "adagrad"])
def test_a_step_refused_by_a_later_group_leaves_the_earlier_groups_untouched(name):
    """4ca3634 made Adam/AdamW/Adagrad "count a step only once nothing can refuse it" so that a
    refused ``step()`` (a ConfigError whose message tells the user to fix the value and go on)
    "must leave the optimizer as it was" (tests/test_optim_read_contracts.py). But ``step()``
    checks and applies one param group at a time: with two groups (the ordinary way to give
    biases or a head their own settings) whose *second* group holds the bad value, the first
    group's parameters are already updated (and, for Adam/Adagrad, their step counted) when the
    error is raised. After the user fixes the value and calls ``step()`` again, the first group
    has taken two updates for one gradient, silently diverging from ``torch.optim`` run on the
    same groups. Nothing may change when a step is refused."""
    k = 3
    g = torch.Generator().manual_seed(0)
    a0, b0 = torch.randn(k, 4, generator=g, dtype=F64), torch.randn(k, 2, generator=g, dtype=F64)
    ga, gb = torch.randn(k, 4, generator=g, dtype=F64), torch.randn(k, 2, generator=g, dtype=F64)
    a, b = a0.clone(), b0.clone()
    opt = create_optimizer(name, [{"params": [a]}, {"params": [b]}], lr=0.1)
    a.grad, b.grad = ga.clone(), gb.clone()
    opt.param_groups[1]["lr"] = torch.full((k + 1,), 0.1, dtype=F64)  # wrong length
    with pytest.raises(ConfigError):
        opt.step()
    opt.param_groups[1]["lr"] = 0.1  # fixed
    opt.step()
    for m in range(k):
        ra, rb = a0[m].clone(), b0[m].clone()
        ref = TORCH[name]([{"params": [ra]}, {"params": [rb]}], lr=0.1)
        ra.grad, rb.grad = ga[m].clone(), gb[m].clone()
        ref.step()
        torch.testing.assert_close(a[m], ra, rtol=1e-10, atol=0)
        torch.testing.assert_close(b[m], rb, rtol=1e-10, atol=0)


def test_adagrad_survives_a_first_step_that_fails_on_its_initial_accumulator_value():
    """Adagrad creates its state (``step``, then ``sum`` from the group's
    ``initial_accumulator_value``) before anything is checked. A per-model
    ``initial_accumulator_value`` of the wrong length set on the group (the very mistake the
    other per-model values are refused for with a ConfigError naming the fix) fails inside that
    initialization with torch's raw "The expanded size of the tensor ..." RuntimeError, after
    ``state["step"] = 0`` was written but before ``state["sum"]`` was. The state is now half
    built: once the user fixes the value, every later ``step()`` dies with ``KeyError: 'sum'``
    (``len(state) != 0``, so the state is never built again), and the optimizer can never be
    used again. 4ca3634's rule ("count a step only once nothing can refuse it") must cover the
    state it creates: a refused first step leaves the optimizer as it was, and after the fix it
    steps as torch.optim.Adagrad does."""
    k = 3
    g = torch.Generator().manual_seed(0)
    init = torch.randn(k, 4, generator=g, dtype=F64)
    grad = torch.randn(k, 4, generator=g, dtype=F64)
    p = init.clone()
    opt = create_optimizer("adagrad", [p], lr=0.1)
    p.grad = grad.clone()
    opt.param_groups[0]["initial_accumulator_value"] = torch.full((k + 1,), 0.1, dtype=F64)
    with pytest.raises((ConfigError, RuntimeError)):
        opt.step()
    opt.param_groups[0]["initial_accumulator_value"] = 0.1  # fixed
    opt.step()
    for m in range(k):
        ref = init[m].clone()
        o = torch.optim.Adagrad([ref], lr=0.1, initial_accumulator_value=0.1)
        ref.grad = grad[m].clone()
        o.step()
        torch.testing.assert_close(p[m], ref, rtol=1e-10, atol=0)


# -- watch: one GradScaler, two fused optimizers, one of them skipped -----------------------------


def _two_optimizer_ratios(fused: bool):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    kw = {"fused": True} if fused else {"foreach": True}
    body = torch.optim.Adam(net[0].parameters(), lr=0.01, **kw)
    head = torch.optim.Adam(net[2].parameters(), lr=0.01, **kw)
    scaler = torch.amp.GradScaler("cpu")
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with watch(net, every=1, scaler=scaler) as w:
        for s in range(3):
            body.zero_grad()
            head.zero_grad()
            scaler.scale(nn.functional.cross_entropy(net(x), y)).backward()
            if s == 1:  # the scaled gradients overflow in the head only
                net[2].weight.grad[0, 0] = float("inf")
            scaler.step(body)  # finite: stepped
            scaler.step(head)  # found_inf: skipped
            scaler.update()
    return {(r["step"], r["layer"]): r["update_ratio"] for r in w.records()}


def test_a_layer_updated_by_one_fused_optimizer_keeps_its_ratio_when_another_is_skipped():
    """c8a91fa keeps "the found_inf a GradScaler gave a fused optimizer for this step's update"
    and reads the whole step as "no update" (update_ratio None for every layer) where it is
    > 0. But a GradScaler keeps one found_inf *per optimizer* (torch's recipe for several
    optimizers: one ``scaler.step(opt)`` each), and the watch keeps only the last one it saw.
    With two fused optimizers (body and head) where only the head's gradients overflowed, the
    body was updated (ratio ~0.034, as the foreach run of the same loop reports), yet the
    fused run reports None for it: the body's real update is erased because a different
    optimizer skipped. The records must not depend on the optimizer's kernel (the rule the
    commit's own fix restores for a single optimizer)."""
    foreach, fused = _two_optimizer_ratios(False), _two_optimizer_ratios(True)
    assert foreach[(1, "0")] is not None and foreach[(1, "0")] > 0  # the body did move
    assert fused[(1, "0")] == foreach[(1, "0")], (fused[(1, "0")], foreach[(1, "0")])


# -- verdict: a real Inf in the backward, with a parameter layer above it watched ---------------


def test_an_inf_born_in_the_backward_is_found_when_a_layer_above_it_is_watched_too():
    """c8a91fa counts an inf output-gradient norm as a NaN/Inf origin only "at a step whose
    watched parameter gradients are not all finite or not recorded", reasoning that "a real
    Inf there makes the parameter gradients below it non-finite too". The parameter gradients
    it looks at, though, are those of *every* watched layer of the step, including layers
    *above* the Inf (their gradients are computed before it in the backward, and stay finite).
    Watching the activations ``a1``, ``a2`` and the head ``l3`` (``layers=[...]``, a
    documented option), a real +Inf injected above ``a2`` at step 3 is not reported: the finite
    gradient of ``l3`` vouches for the step, and the verdict blames the *forward* of step 4
    (the weights the Inf corrupted), while the same injection of a NaN is found at step 3 in
    the backward, as is the Inf when ``l3`` is not watched (the commit's own test). Adding a
    layer to the watch must not hide where the Inf was born."""
    layers = ["a1", "a2", "l3"]
    nan = nonfinite_finding(float("nan"), layers)
    inf = nonfinite_finding(float("inf"), layers)
    assert (nan.status, nan.step) == ("fail", 3)  # (the NaN case is found where it was born)
    assert (inf.status, inf.step, inf.layer) == (nan.status, nan.step, nan.layer), inf.message


def test_a_layer_that_refuses_the_data_shape_with_a_value_error_is_a_shape_mismatch():
    """The trainer's up-front shape check turns torch's shape errors into one line ("shape
    mismatch: ..."), but caught only RuntimeError: a user module whose first layer is
    ``nn.BatchNorm1d`` on images raises ``ValueError: expected 2D or 3D input (got 4D input)``,
    which escaped ``train()`` as a raw traceback. Both kinds must read as the mismatch."""
    from conftest import small_config
    from trainlab.errors import UserError
    from trainlab.train import train

    bn, flat = torch.nn.BatchNorm1d(1), torch.nn.Flatten()  # digits: (N, 1, 8, 8)
    model = torch.nn.Sequential(bn, flat, torch.nn.Linear(64, 10))
    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1})
    with pytest.raises(UserError, match="shape mismatch"):
        train(cfg, model=model, write=False, progress=False, device="cpu")
