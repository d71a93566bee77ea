"""Review clip31: gradient clipping per model (trainlab.optim.clip, train.clip_norm/clip_value,
clip_frac, `trainlab study clipping`)."""

from __future__ import annotations

from trainlab.studies.clipping import _clipped_steps


def _cell(fracs_by_model_epoch):
    return {
        "metrics": [
            {"model": m, "epoch": e, "clip_frac": f}
            for m, fracs in fracs_by_model_epoch.items()
            for e, f in enumerate(fracs, start=1)
        ]
    }


# studies/clipping.py _clipped_steps formats the mean clip_frac with "{:.0%}", so a mean of
# 0.99756 (measured in `trainlab study clipping --quick`, ReLU, clip norm 1, lr 0.1: model 5's
# epoch 4 had clip_frac 40/41 = 0.9756, the other 9 model-epochs 1.0) is printed as "100%",
# the table's "steps clipped" column that the intro calls "how often it acted": the report
# says clipping acted on every step when one of the 410 steps was not clipped. 100% must mean
# all steps (as the histogram panels print ">99%", never "100%", for a near-total share); the
# exact mean here is 0.99756, which must not read 100%.
def test_steps_clipped_does_not_round_a_partial_fraction_up_to_100_percent():
    fracs = {4: [1.0] * 5, 5: [1.0, 1.0, 1.0, 40 / 41, 1.0]}
    text = _clipped_steps(_cell(fracs), [4, 5])
    overall = text.split(" (epoch 1")[0]
    assert overall != "100%", text
    # every step clipped still reads 100%
    assert _clipped_steps(_cell({0: [1.0, 1.0]}), [0]).startswith("100%")


# the same rounding for the epoch-1 part: epoch 1's mean 0.998 must not read "epoch 1: 100%"
def test_steps_clipped_epoch_one_does_not_round_up_to_100_percent():
    fracs = {0: [1.0, 1.0], 1: [0.996, 1.0]}
    text = _clipped_steps(_cell(fracs), [0, 1])
    assert "epoch 1: 100%" not in text, text
