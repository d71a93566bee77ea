"""Review (dataset31): trainlab.data.Dataset passed to train/resume/load_run."""

from __future__ import annotations

import pytest
import torch

import trainlab
from trainlab.data import Dataset
from trainlab.errors import DataError, UserError


def _dataset(input_shape=(4,), num_classes=3) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=g)
    y = torch.arange(40) % 3
    return Dataset("mine", x, y, x[30:], y[30:], x[:10], y[:10], input_shape, num_classes)


CFG = {
    "name": "t",
    "model": {"name": "mlp", "hidden": [4]},
    "train": {"epochs": 1, "batch_size": 16},
    "population": {"seeds": [0]},
}


# train(cfg, dataset=(x, y)) refuses a non-Dataset with a one-line UserError ("dataset must be
# a trainlab.data.Dataset, got tuple; ..."), but resume()/load_run() of a run trained on a
# dataset passed in hand the same mistake to _data_changes -> _dataset_record, which crashes
# with AttributeError ('tuple' object has no attribute 'x_train'), a traceback instead of the
# message. _rebuild (train.py) should refuse a non-Dataset as Trainer does, before comparing.
@pytest.mark.parametrize("fn", ["resume", "load_run"])
def test_resume_and_load_run_refuse_non_dataset_with_user_error(tmp_path, fn):
    ds = _dataset()
    out = tmp_path / "run"
    trainlab.train(CFG, dataset=ds, out=out, progress=False)
    call = getattr(trainlab.train, fn)
    with pytest.raises(UserError, match="trainlab.data.Dataset"):
        call(out, dataset=(ds.x_train, ds.y_train))


# Dataset.checked() promises "raises a one-line DataError" for a dataset built by hand, but
# input_shape=4 (an int, a natural slip for flat inputs) crashes inside it with
# TypeError: 'int' object is not iterable (tuple(self.input_shape)); so does train(dataset=).
# Expected: a DataError naming input_shape (e.g. "input_shape must be a tuple, e.g. (4,)").
def test_checked_input_shape_int_is_a_data_error():
    with pytest.raises(DataError, match="input_shape"):
        _dataset(input_shape=4).checked()


# Same promise: num_classes=1 is refused, but with a UserError (from _positive_int), not the
# DataError the docstring names, so `except DataError` around checked() misses it; every other
# problem checked() finds is a DataError.
def test_checked_bad_num_classes_is_a_data_error():
    with pytest.raises(DataError, match="num_classes"):
        _dataset(num_classes=1).checked()
