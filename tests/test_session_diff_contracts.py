"""Review of this session's changes (87ff5ec..HEAD): regressions and wrong edges."""

from __future__ import annotations

import numpy as np

from conftest import small_config


def test_describe_change_shows_the_difference_inside_a_nested_list():
    """``describe_change`` (used by ``resume`` to say which config value changed) promises
    "``before -> after`` in a few words ... the first item that differs". When that item is
    itself a long list or a dict holding one (a list of layer widths, a variant dict),
    ``short_repr`` cuts both sides to the same first 8 entries, so the message shows two
    identical texts and the user cannot see what changed. The two sides of a description of a
    real change must differ."""
    from trainlab.errors import describe_change

    for before, after in (
        ([[0] * 20], [[0] * 19 + [1]]),
        ([{"model.hidden": [16] * 12}], [{"model.hidden": [16] * 11 + [32]}]),
    ):
        text = describe_change(before, after)
        body = text.rsplit(" (", 1)[0] if text.endswith("changed)") else text
        left, right = body.split(" -> ", 1)
        left = left.split(": ", 1)[-1]
        assert left != right, f"the change is invisible: {text}"


def test_lr_find_accepts_a_numpy_integer_num_steps():
    """``lr_find(num_steps=...)`` is documented as a whole number of steps ≥ 5. This session's
    check (``isinstance(num_steps, int)``) refuses ``np.int64(8)`` with "needs a whole
    num_steps ... got np.int64(8)", although it is whole and ≥ 5 and the code before the
    session ran it (a count from ``np.arange``/``len`` of an array is a numpy integer). Other
    entry points (``layer_widths``) accept ``np.integer`` explicitly."""
    from trainlab.optim.lr_find import lr_find

    result = lr_find(small_config(), num_steps=np.int64(8), device="cpu")
    assert len(result.lrs) == 8
