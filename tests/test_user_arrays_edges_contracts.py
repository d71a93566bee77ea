"""Contracts from a review: a user's own arrays (.npz, arrays_dataset, Dataset) at the edges."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from trainlab.data import Dataset, load
from trainlab.errors import UserError
from trainlab.pretrain import arrays_dataset
from trainlab.train import train


def _xy(n: int, d: int = 4, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    return rng.normal(size=(n, d)).astype(np.float32), np.arange(n) % k


@pytest.mark.parametrize(
    "bad", [np.float64(1e20), np.uint64(2**63 + 5)], ids=["float-1e20", "uint64-over-int64"]
)
def test_out_of_int64_label_is_reported_as_it_is_in_the_file(tmp_path, bad):
    # labels beyond int64 are cast first, so the error names a label the file does not hold
    # (-9223372036854775808...) with a RuntimeWarning; it should name the real value
    x, y = _xy(40)
    y_train = y.astype(bad.dtype)
    y_train[0] = bad
    p = tmp_path / "d.npz"
    np.savez(p, x_train=x, y_train=y_train, x_test=x[:10], y_test=y[:10])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(UserError) as err:
            load("npz", path=p)
    assert "-92233720368547758" not in str(err.value)


def test_arrays_dataset_refuses_channels_last_images_like_load():
    # arrays_dataset promises load's checks, but (N, H, W, C) images pass and a convnet then
    # takes H as channels; load('npz') refuses them with the transpose: so should this
    x = np.random.default_rng(0).random((40, 8, 8, 3)).astype(np.float32)
    y = np.arange(40) % 2
    with pytest.raises(UserError, match="transpose"):
        arrays_dataset(x, y, x[:10], y[:10])


@pytest.mark.parametrize("nc", [2.7, "abc", float("nan"), [2]])
def test_arrays_dataset_num_classes_checked_as_load_checks_it(nc):
    # arrays_dataset int()s num_classes: 2.7 becomes 2 silently, 'abc'/nan/[2] crash with a
    # raw ValueError/TypeError; load('npz', num_classes=...) gives one clear UserError
    x, y = _xy(40)
    with pytest.raises(UserError, match="num_classes"):
        arrays_dataset(x, y, x[:10], y[:10], num_classes=nc)


def test_arrays_dataset_without_test_split_is_not_a_keyerror():
    # arrays_dataset(x, y, None, None) crashes with KeyError 'test'; it should give an empty
    # test split or a one-line UserError
    x, y = _xy(40)
    try:
        ds = arrays_dataset(x, y, None, None)
    except UserError:
        return
    assert len(ds.y_test) == 0


def test_arrays_dataset_empty_training_arrays_not_blamed_on_val_fraction():
    # with no training rows and val_fraction=0 the error says 'val_fraction=0 ... lower it',
    # a fix that cannot help; it should say the training arrays are empty
    x, y = _xy(10)
    with pytest.raises(UserError) as err:
        arrays_dataset(np.zeros((0, 4), np.float32), np.zeros(0, int), x, y, val_fraction=0)
    assert "lower it" not in str(err.value)


def test_dataset_checked_num_classes_text_is_a_user_error():
    # Dataset(num_classes='2') reaches an int >= str comparison in checked(): TypeError
    # traceback; it should be a one-line UserError naming num_classes
    x, y = _xy(40)
    t = torch.as_tensor
    ds = Dataset("h", t(x), t(y), t(x[:4]), t(y[:4]), t(x[:4]), t(y[:4]), (4,), "2")
    with pytest.raises(UserError, match="num_classes"):
        ds.checked()


def test_negative_labels_get_the_remap_hint(tmp_path):
    # labels {-1, 1} are refused with 'check the data files' and 'class indices 0..1'; like
    # {3, 7} they are class names and the error should give the numpy.unique remap line
    x, y = _xy(40)
    p = tmp_path / "pm1.npz"
    np.savez(p, x_train=x, y_train=2 * y - 1, x_test=x[:10], y_test=2 * y[:10] - 1)
    with pytest.raises(UserError, match="return_inverse"):
        load("npz", path=p)


def test_early_stopping_with_empty_x_val_in_file_names_the_file_not_val_fraction(tmp_path):
    # an .npz with an empty x_val: early stopping says 'set data.val_fraction > 0', which the
    # file's x_val overrides (same error after setting it); the fix is in the file's x_val
    x, y = _xy(40)
    p = tmp_path / "v.npz"
    np.savez(
        p, x_train=x, y_train=y, x_test=x[:10], y_test=y[:10],
        x_val=np.zeros((0, 4), np.float32), y_val=np.zeros(0, int),
    )  # fmt: skip
    cfg = {
        "data": {"name": "npz", "val_fraction": 0.2, "options": {"path": str(p)}},
        "model": {"name": "mlp", "hidden": [4]},
        "train": {"epochs": 1, "batch_size": 16, "early_stopping_patience": 2},
        "population": {"seeds": [0]},
    }
    with pytest.raises(UserError, match="x_val"):
        train(cfg, device="cpu", write=False, progress=False)
