"""Review (sched17): learning-rate schedules and the LR finder."""

from __future__ import annotations

import pytest
import torch

from trainlab.optim import create_schedule


@pytest.mark.parametrize(
    ("t_0", "t_mult", "spe", "restarts"),
    [
        (7, 1.3, 1, [7]),  # cycle 0 lasts T_0 = 7 epochs whatever T_mult is
        (5, 1.2, 4, [20, 44]),  # cycles of 5 and 6 epochs: restarts at epochs 5 and 11
        (0.2, 1.0, 10, [2, 4, 6, 8, 10, 12, 14, 16, 18]),  # a restart every 2 steps
    ],
)
def test_sgdr_restarts_at_the_base_lr_when_t0_or_t_mult_is_not_a_binary_fraction(
    t_0, t_mult, spe, restarts
):
    # sgdr's cycle arithmetic (start = T_0(T_mult^n - 1)/(T_mult - 1), remainder(e, T_0)) rounds
    # an exact restart to the previous cycle's end, giving eta_min (0) instead of the base lr.
    sched = create_schedule(
        "sgdr", torch.tensor([1.0], dtype=torch.float64), total_steps=60, steps_per_epoch=spe,
        t_0=t_0, t_mult=t_mult,
    )  # fmt: skip
    lrs = sched.curve()[:, 0].tolist()
    assert [round(lrs[s], 6) for s in restarts] == [1.0] * len(restarts), lrs
