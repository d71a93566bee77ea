"""Review labels32: labels and classes of user data."""

import numpy as np
import pytest
import torch

from trainlab.data import load
from trainlab.errors import DataError
from trainlab.pretrain import arrays_dataset


def _x(n):
    return np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)


# Labels counted from 1 (1..C) with num_classes=C given: check_arrays (npz, mnist,
# arrays_dataset) says "pass num_classes=... if there are more classes", the wrong fix: there
# are exactly C classes, and following it (num_classes=C+1) silently trains a model with a
# dead output 0. Dataset.checked() already recognises this case and says "labels counted from
# 1: subtract 1"; the file/array path must give the same, correct hint.
def test_npz_labels_from_one_with_num_classes_hint_subtract_one(tmp_path):
    y = np.arange(60) % 3 + 1  # 1..3
    p = tmp_path / "d.npz"
    np.savez(p, x_train=_x(60), y_train=y, x_test=_x(9), y_test=y[:9])
    with pytest.raises(DataError) as err:
        load("npz", path=str(p), num_classes=3)
    assert "subtract 1" in str(err.value)


def test_arrays_dataset_labels_from_one_with_num_classes_hint_subtract_one():
    y = np.arange(60) % 10 + 1  # 1..10, as a user of 10-class data counted from 1
    with pytest.raises(DataError) as err:
        arrays_dataset(_x(60), y, _x(20), y[:20], num_classes=10)
    assert "subtract 1" in str(err.value)


# A hand-built Dataset with torch.uint64 labels above 2**63 (a sentinel such as 2**64-1 kept
# as a label): Dataset.checked() casts with y.long(), which wraps, and the error names label
# -9223372036854775807, a value the data does not hold, with the hint for codes like -1/1.
# The numpy path (_tensor_field) already refuses such a value by name ("beyond int64"); the
# message must name the label as stored, not its wrapped int64 value.
def test_dataset_checked_uint64_label_named_as_stored():
    from trainlab.data import Dataset

    x = torch.as_tensor(_x(20))
    y = torch.tensor([0, 1] * 9 + [2**63 + 1, 0], dtype=torch.uint64)
    ds = Dataset("hand", x, y, x[:0], y[:0], x[:4], y[:4], (4,), 2)
    with pytest.raises(DataError) as err:
        ds.checked()
    assert "-9223372036854775807" not in str(err.value)
    assert str(2**63 + 1) in str(err.value)
