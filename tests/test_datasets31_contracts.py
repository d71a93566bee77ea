"""Review datasets31: the built-in data sets of trainlab.data's registry."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab import data
from trainlab.config import parse_config
from trainlab.data.synthetic import make_teacher
from trainlab.errors import UserError


# make_teacher's docstring promises "Bad arguments are a one-line UserError" (so does
# load("teacher")), and it takes a width as a Python int or a numpy integer. A 0-d numpy array
# (np.array(64), np.asarray(width), a value taken out of a numpy sweep grid) passes the
# `isinstance(..., np.ndarray)` branch and is then iterated, which raises a bare
# "TypeError: iteration over a 0-d array" traceback. Expected: either read it as the width 64
# (the same teacher as hidden=64) or refuse it with a UserError; never a TypeError.
@pytest.mark.parametrize("call", ["make_teacher", "load"])
def test_teacher_hidden_as_a_0d_array_is_a_width_or_a_user_error(call):
    hidden = np.array(64)
    try:
        if call == "make_teacher":
            x, y = make_teacher(200, 5, 3, hidden, 0)
            _, y64 = make_teacher(200, 5, 3, 64, 0)
            np.testing.assert_array_equal(y, y64)
        else:
            ds = data.load("teacher", n_samples=200, dim=5, classes=3, hidden=hidden)
            ref = data.load("teacher", n_samples=200, dim=5, classes=3, hidden=64)
            assert ds.y_train.tolist() == ref.y_train.tolist()
    except UserError:
        pass  # a one-line refusal is fine too


# data.options.seed is refused with "write data.seed instead of data.options.seed". For a set
# whose *generator* has a seed (mnist1d: its make_dataset argument is literally called `seed`;
# spirals/blobs/teacher), the user means the data's seed, and data.seed is only the split seed:
# following the hint leaves the generated data (and mnist1d's own test split) unchanged, with
# no further error. The message must name data.options.data_seed, the option that does what
# was asked, for data sets that take it.
@pytest.mark.parametrize("name", ["mnist1d", "spirals"])
def test_data_options_seed_hint_names_data_seed_for_generated_sets(name):
    with pytest.raises(UserError) as err:
        parse_config({"data": {"name": name, "options": {"seed": 1}}})
    assert "data_seed" in str(err.value)
