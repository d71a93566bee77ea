"""Mutation review mut39c: schedules.py and clip.py contracts the other tests left open.

Expected values come from torch (``torch.optim.lr_scheduler`` on a dummy optimizer,
``torch.nn.utils.clip_grad_*`` on each model alone) or from the docstrings' formulas by hand.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.optim import lr_scheduler as tls

from conftest import torch_lr_curve
from trainlab.optim import create_schedule


def _curve(name, base, total, spe, **params) -> torch.Tensor:
    s = create_schedule(
        name, torch.tensor([base], dtype=torch.float64), total_steps=total,
        steps_per_epoch=spe, **params,
    )  # fmt: skip
    return torch.stack([s(i)[0] for i in range(total)])


def test_step_gamma_defaults_to_torchs_steplr_gamma():
    """``step`` without gamma decays as torch's ``StepLR(opt, step_size)`` (gamma 0.1)."""
    ours = _curve("step", 0.2, 24, 3, step_size=2)
    ref = torch_lr_curve(lambda o: tls.StepLR(o, 2), 0.2, 24, every=3)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=0)


def test_multistep_gamma_defaults_to_torchs_multisteplr_gamma():
    ours = _curve("multistep", 0.2, 24, 3, milestones=[2, 5])
    ref = torch_lr_curve(lambda o: tls.MultiStepLR(o, [2, 5]), 0.2, 24, every=3)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=0)


def test_cyclic_step_size_up_defaults_to_torchs_2000():
    """``cyclic`` without step_size_up rises over 2000 steps, as torch's ``CyclicLR``."""
    n = 4500
    ours = create_schedule("cyclic", torch.tensor([0.01], dtype=torch.float64), total_steps=n,
                           steps_per_epoch=1, max_lr=0.1).curve()[:, 0]  # fmt: skip
    ref = torch_lr_curve(lambda o: tls.CyclicLR(o, 0.01, 0.1, cycle_momentum=False), 0.01, n)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-12)
    assert float(ours[2000]) == pytest.approx(0.1)


def test_linear_stays_at_its_end_value_past_the_run():
    """Past total_steps (a schedule spanning fewer epochs than trained) the linear decay holds
    end_factor·lr, as torch's ``LinearLR`` does after total_iters; it never turns negative."""
    total, n = 10, 40
    s = create_schedule("linear", torch.tensor([0.2], dtype=torch.float64), total_steps=total,
                        steps_per_epoch=1, end_factor=0.25)  # fmt: skip
    ours = torch.stack([s(i)[0] for i in range(n)])
    ref = torch_lr_curve(lambda o: tls.LinearLR(o, 1.0, 0.25, total), 0.2, n)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-15)
    zero = create_schedule("linear", torch.tensor([0.2], dtype=torch.float64), total_steps=total,
                           steps_per_epoch=1, end_factor=0.0)  # fmt: skip
    assert all(float(zero(i)[0]) == 0.0 for i in range(total, n))


def test_cosine_holds_eta_min_after_t_max():
    """The docstring: for t ≤ t_max the half cosine, then η_min (not torch's periodic rise)."""
    total, t_max, eta = 30, 10, 0.003
    ours = _curve("cosine", 0.1, total, 1, t_max=t_max, eta_min=eta)
    t = torch.arange(total, dtype=torch.float64).clamp(max=t_max)
    expected = eta + (0.1 - eta) * (1 + torch.cos(math.pi * t / t_max)) / 2
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-15)
    assert torch.all(ours[t_max:] == ours[t_max])


def test_warmup_start_factor_defaults_to_zero():
    """Module doc: warmup ``lr = lr₀ · (s + (1 − s) · step / W)``, s default 0: the ramp starts
    at 0 (torch's ``LinearLR(start_factor→0)`` then the inner schedule)."""
    total, w = 20, 5
    ours = _curve("cosine", 0.1, total, 1, warmup_steps=w)
    t = torch.arange(total, dtype=torch.float64)
    after = 0.1 * (1 + torch.cos(math.pi * (t - w).clamp(min=0) / (total - w))) / 2
    expected = torch.where(t < w, 0.1 * t / w, after)
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-15)
    assert float(ours[0]) == 0.0


@pytest.mark.parametrize("kwargs", [{"total_steps": 10, "steps_per_epoch": 0},
                                    {"total_steps": 0, "steps_per_epoch": 1}])  # fmt: skip
def test_zero_total_or_steps_per_epoch_is_refused_by_name(kwargs):
    """create_schedule's contract: both counts are whole numbers ≥ 1 (a steps_per_epoch of 0
    would divide by zero in every epoch-based schedule)."""
    from trainlab.errors import ConfigError

    with pytest.raises(ConfigError, match="steps_per_epoch"):
        create_schedule("cosine", torch.tensor([0.1]), **kwargs)


def test_clip_norm_exactly_at_max_norm_is_not_counted_as_clipped():
    """A norm whose coefficient max_norm/(norm + 1e-6) is exactly 1 (norm 1024: the 1e-6 is
    below float32's spacing there) leaves the gradients as torch's clip_grad_norm_ does, and
    the ``clipped`` mask ("scaled down") is False for that model."""
    from trainlab.optim import clip_grad_norm_

    g = torch.zeros(2, 4)
    g[0, 0] = 1024.0  # norm 1024 = max_norm
    g[1, 0] = 2048.0  # norm 2048 > max_norm
    p = torch.nn.Parameter(torch.zeros(2, 4))
    p.grad = g.clone()
    norms, clipped = clip_grad_norm_([p], 1024.0, k=2)
    for k in range(2):
        q = torch.nn.Parameter(torch.zeros(4))
        q.grad = g[k].clone()
        ref = torch.nn.utils.clip_grad_norm_([q], 1024.0)
        assert float(norms[k]) == float(ref)
        torch.testing.assert_close(p.grad[k], q.grad, rtol=0, atol=0)
    assert clipped.tolist() == [False, True]


def test_clip_value_exactly_at_the_bound_is_not_counted_as_clipped():
    """clip_grad_value_'s mask: models with an element *beyond* value; an element equal to it
    is left as torch's clip_grad_value_ leaves it, and not counted."""
    from trainlab.optim import clip_grad_value_

    g = torch.tensor([[0.5, -0.25], [-0.5, 0.1], [0.75, 0.0]])
    for value in (0.5, torch.tensor([0.5, 0.5, 0.5])):
        p = torch.nn.Parameter(torch.zeros(3, 2))
        p.grad = g.clone()
        clipped = clip_grad_value_([p], value)
        ref = g.clone()
        for k in range(3):
            q = torch.nn.Parameter(torch.zeros(2))
            q.grad = g[k].clone()
            torch.nn.utils.clip_grad_value_([q], 0.5)
            ref[k] = q.grad
        torch.testing.assert_close(p.grad, ref, rtol=0, atol=0)
        assert clipped.tolist() == [False, False, True]


def test_one_float_lr_gives_0d_float64_rates_that_keep_0_1_exact():
    """Schedule doc: built from one float lr, ``sched(step)`` is 0-d; the lr is kept in float64
    (0.1 is not rounded to float32's 0.100000001)."""
    s = create_schedule("step", 0.1, total_steps=12, steps_per_epoch=3, step_size=2, gamma=0.5)
    assert s(0).shape == ()
    assert s(0).item() == 0.1
    assert s(6).item() == 0.1 * 0.5


def test_negative_milestones_are_refused():
    from trainlab.errors import ConfigError

    with pytest.raises(ConfigError, match="≥ 0"):
        create_schedule("multistep", torch.tensor([0.1]), total_steps=12, steps_per_epoch=3,
                        milestones=[-1, 2])  # fmt: skip


def test_a_zero_per_model_max_norm_is_refused():
    """clip doc: per-model thresholds must be > 0 (0 would zero that model's gradients)."""
    from trainlab.errors import ConfigError
    from trainlab.optim import clip_grad_norm_, clip_grad_value_

    p = torch.nn.Parameter(torch.zeros(2, 3))
    p.grad = torch.ones(2, 3)
    with pytest.raises(ConfigError, match="> 0"):
        clip_grad_norm_([p], torch.tensor([1.0, 0.0]), k=2)
    with pytest.raises(ConfigError, match="> 0"):
        clip_grad_value_([p], torch.tensor([0.0, 1.0]))


def test_clip_value_on_unstacked_parameters_flags_any_element_beyond():
    """Parameters not all (K, ...): one flag for all of them, True when any element is beyond
    value; the elements are clamped as torch's clip_grad_value_ clamps them."""
    from trainlab.optim import clip_grad_value_

    a, b = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))
    a.grad, b.grad = torch.tensor([0.1, 0.0, -0.2]), torch.tensor([3.0, 0.05])
    clipped = clip_grad_value_([a, b], 1.0)
    assert clipped.tolist() == [True]
    assert torch.equal(a.grad, torch.tensor([0.1, 0.0, -0.2]))
    assert torch.equal(b.grad, torch.tensor([1.0, 0.05]))
