"""Review schedlr35: learning-rate schedules in training and the LR finder."""

import math
import warnings


def _config(**train):
    return {
        "name": "t",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 2, "batch_size": 600, **train},
        "schedule": {"name": "cosine"},
        "population": {"seeds": [0]},
    }


# lr_sweep (`trainlab lr-find CONFIG --population N --epochs E`) replaces the config's schedule
# with 'none' (and warns that the schedule is "not used") and sets train.epochs to E, but keeps
# the config's train.schedule_epochs (the span of the schedule it dropped; `trainlab diagnose`
# writes it into its run's config.yaml). With E above that span the sweep dies with
# "train.schedule_epochs (3) is less than train.epochs (4)" although no schedule is used.
# A constant-LR sweep spans whatever epochs it is given: it should train and return one
# finite loss per LR (fix: drop train.schedule_epochs beside the schedule in lr_sweep).
def test_lr_sweep_ignores_the_dropped_schedules_span():
    from trainlab.optim.lr_find import lr_sweep

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = lr_sweep(_config(schedule_epochs=3), [1e-3, 1e-1], epochs=4, device="cpu")
    assert res.lrs == [1e-3, 1e-1]
    assert all(math.isfinite(v) for v in res.train_loss)
