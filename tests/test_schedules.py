"""Schedules against ``torch.optim.lr_scheduler`` and closed forms; per-model parameters."""

from __future__ import annotations

import math

import pytest
import torch
from torch.optim import lr_scheduler as tls

from conftest import torch_lr_curve
from trainlab.errors import ConfigError, UserError
from trainlab.optim import create_schedule, list_schedules

SPE = 3  # steps per epoch
EPOCHS = 12
TOTAL = SPE * EPOCHS


def _ours(name: str, base: float, **params) -> torch.Tensor:
    sched = create_schedule(
        name,
        torch.tensor([base], dtype=torch.float64),
        total_steps=TOTAL,
        steps_per_epoch=SPE,
        **params,
    )
    return torch.stack([sched(s)[0] for s in range(TOTAL)])


CASES = [
    ("none", {}, lambda o: tls.ConstantLR(o, factor=1.0), "step", False),
    ("step", {"step_size": 3, "gamma": 0.5}, lambda o: tls.StepLR(o, 3, 0.5), "epoch", False),
    (
        "multistep",
        {"milestones": [2, 5, 9], "gamma": 0.3},
        lambda o: tls.MultiStepLR(o, [2, 5, 9], 0.3),
        "epoch",
        False,
    ),
    ("exponential", {"gamma": 0.8}, lambda o: tls.ExponentialLR(o, 0.8), "epoch", False),
    (
        "step",
        {"step_size": 5, "gamma": 0.5, "interval": "step"},
        lambda o: tls.StepLR(o, 5, 0.5),
        "step",
        False,
    ),
    ("linear", {"end_factor": 0.1}, lambda o: tls.LinearLR(o, 1.0, 0.1, TOTAL), "step", False),
    (
        "cosine",
        {"eta_min": 0.01},
        lambda o: tls.CosineAnnealingLR(o, TOTAL, eta_min=0.01),
        "step",
        False,
    ),
    (
        "sgdr",
        {"t_0": 2, "eta_min": 0.001},
        lambda o: tls.CosineAnnealingWarmRestarts(o, 2, 1, eta_min=0.001),
        "step",
        True,
    ),
    (
        "sgdr",
        {"t_0": 1, "t_mult": 2},
        lambda o: tls.CosineAnnealingWarmRestarts(o, 1, 2),
        "step",
        True,
    ),
    (
        "cyclic",
        {"max_lr": 1.0, "step_size_up": 4, "step_size_down": 6},
        lambda o: tls.CyclicLR(o, 0.1, 1.0, 4, 6, cycle_momentum=False),
        "step",
        False,
    ),
    (
        "cyclic",
        {"max_lr": 1.0, "step_size_up": 5, "mode": "triangular2"},
        lambda o: tls.CyclicLR(o, 0.1, 1.0, 5, mode="triangular2", cycle_momentum=False),
        "step",
        False,
    ),
    (
        "one_cycle",
        {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
        lambda o: tls.OneCycleLR(
            o,
            0.1,
            total_steps=TOTAL,
            pct_start=0.25,
            div_factor=10.0,
            final_div_factor=100.0,
            cycle_momentum=False,
        ),
        "step",
        False,
    ),
    (
        "one_cycle",
        {"anneal_strategy": "linear"},
        lambda o: tls.OneCycleLR(
            o, 0.1, total_steps=TOTAL, anneal_strategy="linear", cycle_momentum=False
        ),
        "step",
        False,
    ),
    (
        "cosine",
        {"warmup_steps": 6, "warmup_start_factor": 0.1},
        lambda o: tls.SequentialLR(
            o,
            [tls.LinearLR(o, 0.1, 1.0, 6), tls.CosineAnnealingLR(o, TOTAL - 6)],
            milestones=[6],
        ),
        "step",
        False,
    ),
]


def _case_id(value) -> str:
    """A test id that is the same in every process (pytest-xdist workers compare them): a
    lambda's repr holds its address."""
    return "torch" if callable(value) else str(value)[:30]


@pytest.mark.parametrize("name,params,make,per,epoch_arg", CASES, ids=_case_id)
def test_matches_torch_lr_scheduler(name, params, make, per, epoch_arg):
    base = 0.1
    ours = _ours(name, base, **params)
    ref = torch_lr_curve(
        make, base, TOTAL, every=1 if per == "step" else SPE, fractional=SPE if epoch_arg else 0
    )
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-12)


def test_cosine_closed_form_and_comparison_can_fail():
    ours = _ours("cosine", 0.2)
    t = torch.arange(TOTAL, dtype=torch.float64)
    torch.testing.assert_close(ours, 0.1 * (1 + torch.cos(math.pi * t / TOTAL)))
    with pytest.raises(AssertionError):
        torch.testing.assert_close(ours, _ours("cosine", 0.2, eta_min=1e-3))


def test_per_model_parameters_equal_separate_schedules():
    base = torch.tensor([0.1, 0.3, 0.05], dtype=torch.float64)
    gamma = torch.tensor([0.5, 0.9, 0.1], dtype=torch.float64)
    t0 = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    pop = create_schedule(
        "step", base, total_steps=TOTAL, steps_per_epoch=SPE, step_size=2, gamma=gamma
    )
    pop2 = create_schedule("sgdr", base, total_steps=TOTAL, steps_per_epoch=SPE, t_0=t0, t_mult=2.0)
    for k in range(3):
        one = create_schedule(
            "step",
            base[k : k + 1],
            total_steps=TOTAL,
            steps_per_epoch=SPE,
            step_size=2,
            gamma=float(gamma[k]),
        )
        one2 = create_schedule(
            "sgdr",
            base[k : k + 1],
            total_steps=TOTAL,
            steps_per_epoch=SPE,
            t_0=float(t0[k]),
            t_mult=2.0,
        )
        for s in range(TOTAL):
            assert pop(s)[k] == one(s)[0]
            assert pop2(s)[k] == one2(s)[0]


def test_tensor_step_equals_int_step_and_curve():
    base = torch.tensor([0.1, 0.2])
    for name, params in [
        ("one_cycle", {}),
        ("multistep", {"milestones": [1, 4]}),
        ("sgdr", {"t_0": 2, "t_mult": 2}),
        ("cyclic", {"max_lr": 1.0, "step_size_up": 3}),
    ]:
        sched = create_schedule(name, base, total_steps=TOTAL, steps_per_epoch=SPE, **params)
        curve = sched.curve()  # (TOTAL, K)
        assert curve.shape == (TOTAL, 2)
        for s in range(TOTAL):
            a = sched(s)
            b = sched(torch.tensor(s, dtype=torch.int64))
            assert a.dtype == base.dtype
            torch.testing.assert_close(a, b, rtol=0, atol=0)
            torch.testing.assert_close(curve[s], a, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "name,params,msg",
    [
        ("step", {}, "needs parameter 'step_size'"),
        ("step", {"step_size": 2, "gama": 0.5}, "did you mean 'gamma'"),
        ("exponential", {"gamma": -1.0}, "gamma must lie in"),
        ("cosine", {"warmup_steps": TOTAL}, "warmup_steps"),
        ("step", {"step_size": 1, "interval": "batch"}, "interval must be one of"),
        ("step", {"step_size": 1, "gamma": torch.tensor([0.1, 0.2, 0.3])}, "one per model"),
    ],
)
def test_bad_parameters_are_clear_errors(name, params, msg):
    with pytest.raises(ConfigError) as err:
        create_schedule(name, torch.tensor([0.1]), total_steps=TOTAL, steps_per_epoch=SPE, **params)
    assert msg in str(err.value)


def test_unknown_schedule_suggests():
    with pytest.raises(UserError, match="did you mean 'cosine'"):
        create_schedule("cosin", torch.tensor([0.1]), total_steps=10, steps_per_epoch=1)
    names = {n for n, _ in list_schedules()}
    assert {
        "none",
        "constant",
        "step",
        "multistep",
        "exponential",
        "cosine",
        "sgdr",
        "cyclic",
        "warmup",
        "one_cycle",
    } <= names


@pytest.mark.parametrize("total,pct", [(10, 0.1), (20, 0.05), (100, 0.01)])
def test_one_cycle_without_a_rise_starts_at_the_peak(total, pct):
    """pct_start·total_steps = 1 puts the end of the rise at step 0 (torch divides 0 by 0 there).
    Step 0 is the peak; later steps equal torch's with a rise just shorter than one step."""
    sched = create_schedule("one_cycle", torch.tensor([0.1, 0.2], dtype=torch.float64),
                            total_steps=total, steps_per_epoch=1, pct_start=pct)  # fmt: skip
    curve = sched.curve()
    assert torch.isfinite(curve).all()
    torch.testing.assert_close(curve[0], torch.tensor([0.1, 0.2], dtype=torch.float64))
    ref = torch_lr_curve(
        lambda o: tls.OneCycleLR(o, 0.1, total_steps=total, pct_start=pct * (1 - 1e-12)), 0.1, total
    )
    torch.testing.assert_close(curve[:, 0], ref, rtol=1e-9, atol=0)


@pytest.mark.parametrize(
    "name,params,msg",
    [
        ("multistep", {"milestones": [1.5, 3]}, "milestones must be whole epochs"),
        ("cosine", {"warmup_steps": 2.7}, "warmup_steps must be a whole number"),
        ("cosine", {"warmup_steps": [1, 2]}, "cannot vary per model (the models give 1, 2)"),
        ("cosine", {"warmup_steps": torch.tensor([1, 2])}, "warmup_steps must be one number"),
    ],
)
def test_fractional_or_per_model_counts_are_rejected(name, params, msg):
    with pytest.raises(ConfigError) as err:
        create_schedule(name, torch.tensor([0.1, 0.2]), total_steps=TOTAL, steps_per_epoch=SPE,
                        **params)  # fmt: skip
    assert msg in str(err.value)
    assert "\n" not in str(err.value)


def test_whole_float_counts_are_accepted():
    a = create_schedule("multistep", torch.tensor([0.1]), total_steps=TOTAL, steps_per_epoch=SPE,
                        milestones=[2.0, 5], warmup_steps=3.0)  # fmt: skip
    b = create_schedule("multistep", torch.tensor([0.1]), total_steps=TOTAL, steps_per_epoch=SPE,
                        milestones=[2, 5], warmup_steps=3)  # fmt: skip
    assert torch.equal(a.curve(), b.curve())


@pytest.mark.parametrize("t_0,t_mult", [(1, 10), (2, 10), (1, 3), (3, 3), (1, 2)])
def test_sgdr_restarts_at_the_base_lr_when_the_log_rounds_down(t_0, t_mult):
    """Each warm restart (epoch T_0 (T_multⁿ − 1)/(T_mult − 1)) starts at the base lr, as torch's
    CosineAnnealingWarmRestarts stepped once per epoch does; log(1000)/log(10) rounding to
    2.9999… put the restart at epoch 111 (T_0 = 1, T_mult = 10) at η_min = 0 instead."""
    total = 1500
    sched = create_schedule("sgdr", torch.tensor([0.1], dtype=torch.float64), total_steps=total,
                            steps_per_epoch=1, t_0=t_0, t_mult=t_mult)  # fmt: skip
    ref = torch_lr_curve(lambda o: tls.CosineAnnealingWarmRestarts(o, t_0, t_mult), 0.1, total)
    ours = sched.curve()[:, 0]
    restarts, start, length = [], 0, t_0
    while start < total:
        restarts.append(start)
        start, length = start + length, length * t_mult
    assert all(float(ours[r]) == pytest.approx(0.1, rel=1e-12) for r in restarts)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-12)
