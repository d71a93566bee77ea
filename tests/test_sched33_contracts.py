"""Review sched33: learning-rate schedules' error messages (numerics, trainer use, resume and
the CLI were checked against torch.optim.lr_scheduler and found right)."""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import create_schedule


# A required schedule parameter spelt as torch spells it (``T_0`` for CosineAnnealingWarmRestarts,
# ``stepsize``...) gets "needs parameter 't_0'" and the key the user did give is never named:
# the missing-parameter error in ``_Params.num`` is raised before ``check_unused`` can report the
# unknown key with its "did you mean" hint. The README promises that unknown keys are rejected
# with a "did you mean" hint; a user who wrote T_0 reads that t_0 is missing and does not learn
# that T_0 was not read. The message must name the unknown key given.
@pytest.mark.parametrize(
    ("name", "params", "unknown"),
    [
        ("sgdr", {"T_0": 2}, "T_0"),
        ("step", {"stepsize": 2}, "stepsize"),
        ("cyclic", {"max_LR": 0.5}, "max_LR"),
    ],  # fmt: skip
)
def test_a_misspelt_required_parameter_is_named_in_the_error(name, params, unknown):
    with pytest.raises(ConfigError) as err:
        create_schedule(name, 0.1, total_steps=20, steps_per_epoch=5, **params)
    assert unknown in str(err.value)


# With one float lr (a schedule shared by every model) and a parameter of K = 3 per-model values,
# the error says "give a number or 1 values (one per model)": there are 3 models, and "1 values"
# is no fix (a 1-element list is not per-model values either). The error must say what to do:
# give base_lr as a (K,) tensor for per-model parameters (it should mention base_lr).
def test_per_model_parameter_with_a_float_lr_says_to_give_base_lr_per_model():
    with pytest.raises(ConfigError) as err:
        create_schedule(
            "cosine", 0.1, total_steps=20, steps_per_epoch=5,
            eta_min=torch.tensor([0.0, 0.01, 0.02], dtype=torch.float64),
        )  # fmt: skip
    msg = str(err.value)
    assert "1 values" not in msg
    assert "base_lr" in msg
