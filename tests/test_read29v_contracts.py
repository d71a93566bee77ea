"""Review read29v: option handling of trainlab.models (mlp, convnet, resnet)."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.errors import UserError
from trainlab.models import create


# check_dropout (src/trainlab/models/mlp.py) runs float(p), so a bool slips through as a number:
# `--set model.dropout=true` (or dropout=True in Python) is reported as "got 1.0", a value the
# user never wrote. Every other number in trainlab refuses a bool ("expected a number, got true"
# for optim.lr / init.bias; _is_int: "True is not a width"), so the message must name the bool.
def test_dropout_true_is_refused_as_a_bool_not_reported_as_1_0():
    with pytest.raises(UserError) as err:
        create("mlp", input_shape=(8,), num_classes=3, hidden=[4], dropout=True)
    assert "1.0" not in str(err.value)
    assert "true" in str(err.value).lower()


# Same root cause: dropout=False is silently read as 0.0 (no dropout), whereas a bool where a
# number belongs is an error everywhere else in trainlab (config's _NoBoolNumbers, _is_int).
@pytest.mark.parametrize(
    "model, shape", [("mlp", (8,)), ("convnet", (1, 8, 8)), ("resnet", (1, 8, 8))]
)
def test_dropout_false_is_refused(model, shape):
    with pytest.raises(UserError, match="dropout"):
        create(model, input_shape=shape, num_classes=3, dropout=False)


# _positive_ints (mlp.py) treats any np.ndarray as a sequence and iterates it: a 0-d array
# (np.array(64), what np.asarray / np.median etc. give for one number) crashes with a bare
# "TypeError: iteration over a 0-d array" traceback instead of being read as the one width it
# holds (np.int64(64) is accepted) or refused with a UserError.
@pytest.mark.parametrize(
    "model, shape, option",
    [("mlp", (8,), "hidden"), ("convnet", (1, 8, 8), "channels"), ("resnet", (1, 8, 8), "widths")],
)
def test_zero_d_numpy_width_is_not_a_traceback(model, shape, option):
    try:
        m = create(model, input_shape=shape, num_classes=3, **{option: np.array(4)})
    except UserError:
        return  # a one-line error is fine too
    # accepted: it must mean one layer/stage of width 4, as np.int64(4) does
    ref = create(model, input_shape=shape, num_classes=3, **{option: np.int64(4)})
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in ref.parameters()]
